"""The simulator publishes what a real gateway would, and the worker takes it: states, counts
(with duplicates and late messages that count once), nothing refused."""
from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from mes.core.db import session
from mes.machinedata.models import CounterReading, DeadLetter, StateEvent
from mes.machinedata.simulator import Simulator, machines_to_simulate
from tests.machinedata.conftest import wait_for


def test_simulated_machines_reach_the_database(app, plant, make_order, broker, start_worker):
    make_order(quantity=10)  # the new lathe's operation: 2.0 min a piece
    [machine] = machines_to_simulate(speed=600)
    assert (machine.code, round(machine.cycle_seconds, 3)) == ("L-NEW", 0.2)
    start_worker()
    simulator = Simulator(broker.url, site="test", speed=600, seed=3)
    stop = threading.Event()

    def run() -> None:
        with app.app_context():
            simulator.run(stop, tick_seconds=0.2)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def seen() -> bool:
        session().rollback()
        return session().scalar(select(func.count()).select_from(CounterReading)) >= 5

    wait_for(seen, timeout=20)
    time.sleep(1)
    stop.set()
    thread.join(10)
    time.sleep(1)
    session().rollback()
    assert session().scalar(select(func.count()).select_from(StateEvent)) >= 1
    assert session().scalar(select(func.count()).select_from(DeadLetter)) == 0
    counted = session().scalar(select(func.sum(CounterReading.good_delta + CounterReading.scrap_delta)))
    assert 0 < counted <= simulator.machines[0].made
