"""Facts from machine data: automatic downtime when a connected machine stops in a planned shift
(the terminal asks why), a long stop takes the machine off the planner, and counted pieces become
the operation's quantity when a worker confirms (or directly, when configured)."""
from __future__ import annotations

import datetime as dt
import json
import uuid

from sqlalchemy import func, select

from mes.core.db import session, transaction
from mes.machinedata import facts, ingest
from mes.machinedata.models import CounterReading
from mes.machines.models import (
    CalendarShift,
    Machine,
    MachineDowntime,
    MachineStatus,
    Reason,
    ReasonKind,
    WorkCalendar,
)
from mes.orders.models import Operation, ProductionReport
from mes.shopfloor import services as floor
from tests.machinedata.conftest import wait_for

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def send(kind: str, at: dt.datetime, code: str = "L-NEW", **payload) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps({"ts": at.isoformat(), **payload}).encode()
    ingest.ingest([ingest.Message(f"mes/p/{code}/{kind}", body, dt.datetime.now(dt.UTC))], ingest.load_router())


def downtimes(machine_id: int) -> list[MachineDowntime]:
    session().rollback()
    return list(session().scalars(select(MachineDowntime).where(MachineDowntime.machine_id == machine_id)
                                  .order_by(MachineDowntime.starts_at)))


def key() -> str:
    return uuid.uuid4().hex


def test_a_stop_becomes_downtime_and_the_terminal_asks_why(plant, users, make_order, as_role):
    order = make_order(quantity=50)
    turn = order.operations[0]
    floor.start(users["worker"], key(), turn.id, "run", plant.new)
    t = NOW - dt.timedelta(minutes=30)
    send("state", t, state="running")
    send("state", t + dt.timedelta(minutes=5), state="down", reason="E-STOP 12")
    [row] = downtimes(plant.new)
    assert (row.source, row.kind, row.ends_at, row.reason_id, row.note) == ("machine", "breakdown", None, None, "E-STOP 12")
    send("state", t + dt.timedelta(minutes=6), state="idle")  # still stopped: the same downtime
    send("state", t + dt.timedelta(minutes=12), state="running")
    [row] = downtimes(plant.new)
    assert row.ends_at == t + dt.timedelta(minutes=12)
    # The worker at the machine's operation is asked, and answers once.
    worker = as_role("worker")
    card = worker.get(f"/floor/operations/{turn.id}").data.decode()
    assert "machine-stop" in card and "E-STOP 12" in card  # the terminal speaks Chinese
    reason = session().scalar(select(Reason.id).where(Reason.kind == ReasonKind.DOWNTIME, Reason.code == "tool_break"))
    r = worker.post(f"/floor/operations/{turn.id}/stops/{row.id}", data={"reason_id": str(reason), "request_key": key()})
    assert r.status_code == 200 and "machine-stop" not in r.data.decode()
    assert downtimes(plant.new)[0].reason_id == reason
    again = worker.post(f"/floor/operations/{turn.id}/stops/{row.id}", data={"reason_id": str(reason), "request_key": key()})
    assert again.status_code == 409
    wrong = worker.post(f"/floor/operations/{turn.id}/stops/{row.id + 999}", data={"reason_id": str(reason)})
    assert wrong.status_code == 404


def test_idle_spells_and_shifts(plant, users):
    t = NOW - dt.timedelta(hours=2)
    send("state", t, state="running")
    send("state", t + dt.timedelta(minutes=10), state="idle")
    send("state", t + dt.timedelta(minutes=12), state="running")  # 2 min: a micro-stop, not recorded
    send("state", t + dt.timedelta(minutes=20), state="idle")
    assert downtimes(plant.new) == []  # an idle machine stays open to the planner
    send("state", t + dt.timedelta(minutes=45), state="running")
    [row] = downtimes(plant.new)
    assert (row.kind, row.starts_at, row.ends_at) == ("idle", t + dt.timedelta(minutes=20), t + dt.timedelta(minutes=45))
    # A machine that is not connected by its master data gets no automatic downtime.
    send("state", t, code="L-OLD", state="running")
    send("state", t + dt.timedelta(minutes=1), code="L-OLD", state="down")
    assert downtimes(plant.old) == []


def test_no_downtime_outside_the_planned_shift(plant):
    with transaction() as s:
        # A shift that never covers now: one minute on a day other than today.
        other = (NOW.weekday() + 3) % 7
        cal = WorkCalendar(code="NARROW", name="Narrow", shifts=[CalendarShift(weekday=other, start_minute=0, end_minute=1)])
        s.add(cal)
        s.flush()
        s.get(Machine, plant.new).calendar_id = cal.id
    send("state", NOW - dt.timedelta(minutes=10), state="running")
    send("state", NOW - dt.timedelta(minutes=5), state="down")
    assert downtimes(plant.new) == []


def test_a_long_stop_takes_the_machine_off_the_planner(app, plant, as_role):
    send("state", NOW - dt.timedelta(minutes=10), state="down")
    assert facts.mark_long_stops() == []  # 30 minutes by default
    app.config["MACHINE_DOWN_UNAVAILABLE_MINUTES"] = 5
    assert facts.mark_long_stops() == [plant.new]
    assert facts.mark_long_stops() == []
    session().rollback()
    assert session().get(Machine, plant.new).status == MachineStatus.DOWN
    machines_page = as_role("planner").get("/machines/").data.decode()
    assert machines_page.count('href="/schedule/"') >= 2  # the menu, and the offer to re-plan
    send("state", NOW - dt.timedelta(minutes=1), state="running")
    session().rollback()
    assert session().get(Machine, plant.new).status == MachineStatus.AVAILABLE


def test_counted_pieces_are_offered_and_confirmed_once(plant, users, make_order, as_role):
    order = make_order(quantity=50)
    turn = order.operations[0]
    floor.start(users["worker"], key(), turn.id, "run", plant.new)
    t = NOW - dt.timedelta(minutes=20)
    send("count", t, good=100, scrap=0)
    send("count", t + dt.timedelta(minutes=5), good=112, scrap=1)
    assert facts.offered_counts(turn.id) == (12, 1)
    worker = as_role("worker")
    card = worker.get(f"/floor/operations/{turn.id}").data.decode()
    assert 'data-testid="machine-counted"' in card
    k = key()
    r = worker.post(f"/machine-data/operations/{turn.id}/confirm-counts", data={"request_key": k})
    assert r.status_code == 303
    again = worker.post(f"/machine-data/operations/{turn.id}/confirm-counts", data={"request_key": k})
    assert again.status_code == 303
    session().rollback()
    op = session().get(Operation, turn.id)
    assert (op.qty_good, op.qty_scrap) == (12, 1)
    assert session().scalar(select(func.count()).select_from(ProductionReport)
                            .where(ProductionReport.source == "machine")) == 1
    assert facts.offered_counts(turn.id) is None  # nothing new to confirm
    assert 'data-testid="machine-counted"' not in worker.get(f"/floor/operations/{turn.id}").data.decode()
    send("count", t + dt.timedelta(minutes=6), good=115, scrap=1)
    assert facts.offered_counts(turn.id) == (3, 0)


def test_counts_can_post_directly(app, plant, users, make_order):
    app.config["MACHINE_COUNTS_POST_DIRECTLY"] = True
    order = make_order(quantity=10)
    turn = order.operations[0]
    floor.start(users["worker"], key(), turn.id, "run", plant.new)
    t = NOW - dt.timedelta(minutes=20)
    send("count", t, good=0, scrap=0)
    send("count", t + dt.timedelta(minutes=1), good=4, scrap=0)
    send("count", t + dt.timedelta(minutes=2), good=9, scrap=0)
    send("count", t + dt.timedelta(minutes=3), good=30, scrap=0)  # more than the order: stays offered
    session().rollback()
    assert session().get(Operation, turn.id).qty_good == 9
    assert facts.offered_counts(turn.id) == (21, 0)
    assert session().scalar(select(func.sum(CounterReading.good_delta))) == 30


def test_downtime_from_a_real_broker(plant, publisher, start_worker):
    start_worker()
    t = NOW - dt.timedelta(minutes=3)
    publisher.send("mes/p/L-NEW/state", {"ts": t.isoformat(), "state": "running"})
    publisher.send("mes/p/L-NEW/state", {"ts": (t + dt.timedelta(seconds=30)).isoformat(), "state": "down"})
    wait_for(lambda: len(downtimes(plant.new)) == 1)
    assert downtimes(plant.new)[0].ends_at is None
