"""Fixtures of the machine-data tests: a real Mosquitto per test, and a worker running in a
thread of the test's app."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mes.machinedata import worker as ingest_worker
from tests.machinedata.broker import Mosquitto, Publisher


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    server = Mosquitto(tmp_path / "broker")
    server.start()
    yield server
    server.stop(kill=True)


@pytest.fixture
def publisher(broker: Mosquitto) -> Iterator[Publisher]:
    pub = Publisher(broker.port)
    yield pub
    pub.close()


class RunningWorker:
    def __init__(self, app, settings: ingest_worker.Settings) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.worker = ingest_worker.Worker(settings)
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            with self.app.app_context():
                self.worker.run(self.stop_event)
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def start(self) -> RunningWorker:
        self.thread.start()
        assert self.worker._connected.wait(10), "worker did not connect"
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(10)
        assert self.error is None, self.error


@pytest.fixture
def start_worker(app, broker: Mosquitto) -> Iterator[Callable[..., RunningWorker]]:  # type: ignore[no-untyped-def]
    started: list[RunningWorker] = []

    def start(client_id: str = "mes-test", **kw) -> RunningWorker:  # type: ignore[no-untyped-def]
        settings = ingest_worker.Settings(url=broker.url, client_id=client_id, router_refresh=0.5, **kw)
        running = RunningWorker(app, settings).start()
        started.append(running)
        return running

    yield start
    for running in started:
        if not running.stop_event.is_set():
            running.stop()


def wait_for(check: Callable[[], object], timeout: float = 15, every: float = 0.1) -> object:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(every)
