"""The andon board in a real browser, opened through a display link (no login): an MQTT message
taken by the worker from a real Mosquitto shows on the screen within seconds."""
from __future__ import annotations

import datetime as dt
import threading

from playwright.sync_api import expect

from tests.machinedata.broker import Mosquitto, Publisher


def test_andon_updates_after_an_mqtt_message(live_server, page, tmp_path):  # type: ignore[no-untyped-def]
    from mes.core.db import transaction
    from mes.machinedata import andon
    from mes.machinedata import worker as ingest_worker
    from mes.machines.models import Machine, WorkCenter

    base, app = live_server
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    stop = threading.Event()
    try:
        with app.app_context():
            with transaction() as s:
                center = WorkCenter(code="PRESS", name="Presses")
                s.add(center)
                s.flush()
                s.add(Machine(code="P-4", name="Press 4", work_center_id=center.id, has_data_connection=True))
                s.add(Machine(code="P-5", name="Press 5", work_center_id=center.id))
            token = andon.create_link("Hall TV", None, None)
        worker = ingest_worker.Worker(ingest_worker.Settings(url=broker.url, client_id="andon-test"))

        def run() -> None:
            with app.app_context():
                worker.run(stop)

        threading.Thread(target=run, daemon=True).start()
        assert worker._connected.wait(10)
        page.goto(f"{base}/andon/d/{token}")
        state = page.get_by_test_id("state-P-4")
        assert state.inner_text().strip().lower() in ("reported by hand", "")
        publisher = Publisher(broker.port)
        now = dt.datetime.now(dt.UTC)
        publisher.send("mes/plant/P-4/state", {"ts": now.isoformat(), "state": "down", "reason": "jam"})
        expect(page.get_by_test_id("state-P-4")).to_have_text("Down", timeout=4000)  # polled every 2 s
        assert page.locator('[data-machine="P-4"]').get_attribute("data-state") == "down"
        publisher.send("mes/plant/P-4/state", {"ts": (now + dt.timedelta(seconds=1)).isoformat(), "state": "running"})
        expect(page.get_by_test_id("state-P-4")).to_have_text("Running", timeout=4000)
        publisher.close()
        # A revoked link shows nothing any more.
        with app.app_context():
            from sqlalchemy import select

            from mes.core.db import session
            from mes.machinedata.models import DisplayLink

            andon.revoke_link(session().scalar(select(DisplayLink.id)))
        assert page.goto(f"{base}/andon/d/{token}").status == 404
    finally:
        stop.set()
        broker.stop(kill=True)
