"""The operation lifecycle on the floor: start, pause, resume, report, finish; machines, quantities,
reversals, downtime and labour time, through the services and the card's views."""
from __future__ import annotations

import datetime as dt
import threading
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from mes.core.db import session, transaction
from mes.core.errors import Conflict, DomainError, InvalidTransition, ValidationError
from mes.machines.models import MachineDowntime, Reason, ReasonKind
from mes.orders import services as orders
from mes.orders.models import Operation, OperationStatus, ProductionReport, WorkOrder, WorkOrderStatus
from mes.shopfloor import services
from mes.shopfloor.models import LabourClock, LabourRecord


def key() -> str:
    return uuid.uuid4().hex


def reason(kind: ReasonKind, code: str) -> int:
    return session().scalar(select(Reason.id).where(Reason.kind == kind, Reason.code == code))


def fresh(model, id_):  # type: ignore[no-untyped-def]
    session().rollback()
    return session().get(model, id_)


def reports_count(op_id: int) -> int:
    session().rollback()
    return session().scalar(select(func.count()).select_from(ProductionReport).where(ProductionReport.operation_id == op_id))


def test_whole_lifecycle_completes_the_order(users, plant, make_order):
    order = make_order(quantity=10)
    turn, mill = order.operations
    w = users["worker"]
    services.start(w, key(), turn.id, "setup", plant.new)
    assert fresh(WorkOrder, order.id).status == WorkOrderStatus.IN_PROGRESS
    op = fresh(Operation, turn.id)
    assert (op.status, op.phase, op.machine_id) == (OperationStatus.IN_PROGRESS, "setup", plant.new)
    services.start(w, key(), turn.id, "run", None)
    assert fresh(Operation, turn.id).phase == "run"
    services.report(w, key(), turn.id, 6, 1, reason(ReasonKind.SCRAP, "surface"))
    services.pause(w, key(), turn.id, reason(ReasonKind.PAUSE, "material"))
    assert fresh(Operation, turn.id).status == OperationStatus.PAUSED
    with pytest.raises(InvalidTransition):
        services.pause(w, key(), turn.id, reason(ReasonKind.PAUSE, "material"))
    services.resume(w, key(), turn.id)
    services.finish(w, key(), turn.id, 3, 0)
    op = fresh(Operation, turn.id)
    assert (op.status, op.qty_good, op.qty_scrap) == (OperationStatus.DONE, 9, 1)
    # The mill may take only the 9 good pieces.
    services.start(w, key(), mill.id, "run", plant.m1)
    with pytest.raises(ValidationError, match="9"):
        services.report(w, key(), mill.id, 10, 0, None)
    result = services.finish(w, key(), mill.id, 9, 0)
    assert result["order_completed"]
    assert fresh(WorkOrder, order.id).status == WorkOrderStatus.COMPLETED
    assert session().scalar(select(func.count()).select_from(LabourClock)) == 0
    phases = set(session().scalars(select(LabourRecord.phase).where(LabourRecord.operation_id == turn.id)))
    assert phases <= {"setup", "run"}


def test_start_refused_until_predecessor_passes_pieces_on(users, plant, make_order):
    order = make_order(quantity=10)
    turn, mill = order.operations
    with pytest.raises(InvalidTransition, match="10"):
        services.start(users["worker"], key(), mill.id, "run", plant.m1)
    # A transfer batch of 4: the mill may start once 4 good pieces have passed.
    with transaction() as s:
        s.get(Operation, turn.id).transfer_batch = 4
    services.start(users["worker"], key(), turn.id, "run", plant.old)
    services.report(users["worker"], key(), turn.id, 5, 0, None)
    services.start(users["worker2"], key(), mill.id, "run", plant.m1)
    services.report(users["worker2"], key(), mill.id, 4, 0, None)
    with pytest.raises(ValidationError):
        services.report(users["worker2"], key(), mill.id, 1, 0, None)
    services.report(users["worker"], key(), turn.id, 3, 0, None)  # 8 good: a second batch passes
    services.report(users["worker2"], key(), mill.id, 3, 1, reason(ReasonKind.SCRAP, "dimension"))
    assert fresh(Operation, mill.id).qty_good == 7


def test_machine_runs_one_operation_and_only_eligible_ones(users, plant, make_order):
    a, b = make_order(), make_order()
    services.start(users["worker"], key(), a.operations[0].id, "run", plant.new)
    with pytest.raises(Conflict, match="L-NEW"):
        services.start(users["worker2"], key(), b.operations[0].id, "run", plant.new)
    with pytest.raises(ValidationError):
        services.start(users["worker2"], key(), b.operations[0].id, "run", plant.m1)
    services.pause(users["worker"], key(), a.operations[0].id, reason(ReasonKind.PAUSE, "break"))
    services.start(users["worker2"], key(), b.operations[0].id, "run", plant.new)
    with pytest.raises(Conflict):
        services.resume(users["worker"], key(), a.operations[0].id)


def test_refusals_record_nothing(users, plant, make_order):
    order = make_order(quantity=5)
    turn = order.operations[0]
    w = users["worker"]
    with pytest.raises(InvalidTransition):
        services.report(w, key(), turn.id, 1, 0, None)  # not started
    services.start(w, key(), turn.id, "run", plant.old)
    with pytest.raises(ValidationError):
        services.finish(w, key(), turn.id)  # nothing reported
    with pytest.raises(ValidationError):
        services.report(w, key(), turn.id, 6, 0, None)  # more than the order
    with pytest.raises(ValidationError):
        services.report(w, key(), turn.id, 0, 1, None)  # scrap without a reason
    orders.hold(order.id, None, "customer asked")
    with pytest.raises(InvalidTransition):
        services.report(w, key(), turn.id, 1, 0, None)
    assert reports_count(turn.id) == 0
    assert fresh(Operation, turn.id).qty_good == 0


def test_same_key_counts_once_and_other_payload_is_refused(users, plant, make_order):
    order = make_order()
    turn = order.operations[0]
    w = users["worker"]
    services.start(w, key(), turn.id, "run", plant.old)
    k = key()
    services.report(w, k, turn.id, 2, 0, None)
    services.report(w, k, turn.id, 2, 0, None)
    assert reports_count(turn.id) == 1 and fresh(Operation, turn.id).qty_good == 2
    with pytest.raises(DomainError):
        services.report(w, k, turn.id, 3, 0, None)
    assert fresh(Operation, turn.id).qty_good == 2


def _in_threads(app, calls):  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = []

    def run(fn):  # type: ignore[no-untyped-def]
        with app.app_context():
            barrier.wait()
            try:
                outcomes.append(fn())
            except DomainError as exc:
                outcomes.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


def test_two_tablets_at_once_never_exceed_the_quantity(app, users, plant, make_order):
    order = make_order(quantity=10)
    turn = order.operations[0]
    services.start(users["worker"], key(), turn.id, "run", plant.old)
    services.start(users["worker2"], key(), turn.id, "run", None)  # joins
    op_id, w1, w2 = turn.id, users["worker"], users["worker2"]
    outcomes = _in_threads(app, [
        lambda: services.report(w1, key(), op_id, 6, 0, None),
        lambda: services.report(w2, key(), op_id, 6, 0, None),
    ])
    assert sum(isinstance(o, dict) for o in outcomes) == 1
    assert fresh(Operation, turn.id).qty_good == 6 and reports_count(turn.id) == 1


def test_same_key_sent_twice_at_once_counts_once(app, users, plant, make_order):
    order = make_order(quantity=10)
    turn = order.operations[0]
    services.start(users["worker"], key(), turn.id, "run", plant.old)
    k = key()
    op_id, w = turn.id, users["worker"]
    outcomes = _in_threads(app, [lambda: services.report(w, k, op_id, 3, 0, None)] * 2)
    assert all(isinstance(o, (dict, Conflict)) for o in outcomes), outcomes
    assert fresh(Operation, turn.id).qty_good == 3 and reports_count(turn.id) == 1


def test_correction_reverses_once_with_a_reason(as_role, users, plant, make_order):
    order = make_order()
    turn = order.operations[0]
    services.start(users["worker"], key(), turn.id, "run", plant.old)
    services.report(users["worker"], key(), turn.id, 4, 0, None)
    report_id = session().scalar(select(ProductionReport.id).where(ProductionReport.operation_id == turn.id))
    assert as_role("worker").post(f"/floor/reports/{report_id}/reverse", data={"reason": "x"}).status_code == 403
    quality = as_role("quality")
    assert quality.post(f"/floor/reports/{report_id}/reverse", data={"reason": ""}).status_code == 422
    assert quality.post(f"/floor/reports/{report_id}/reverse", data={"reason": "miscounted"}).status_code == 200
    assert fresh(Operation, turn.id).qty_good == 0
    rows = session().scalars(select(ProductionReport).where(ProductionReport.operation_id == turn.id)
                             .order_by(ProductionReport.id)).all()
    assert [(r.kind.value, r.good_qty, r.reverses_id) for r in rows] == [("production", 4, None), ("correction", -4, report_id)]
    assert quality.post(f"/floor/reports/{report_id}/reverse", data={"reason": "again"}).status_code == 409
    assert quality.get(f"/floor/operations/{turn.id}/reports").status_code == 200


def test_reversal_refused_while_a_later_operation_uses_the_pieces(users, plant, make_order):
    order = make_order(quantity=10)
    turn, mill = order.operations
    w = users["worker"]
    services.start(w, key(), turn.id, "run", plant.old)
    first = services.report(w, key(), turn.id, 6, 0, None)["report_id"]
    services.finish(w, key(), turn.id, 4, 0)
    services.start(w, key(), mill.id, "run", plant.m1)
    services.report(w, key(), mill.id, 8, 0, None)
    with pytest.raises(InvalidTransition, match="20"):
        services.correct(users["quality"], key(), first, "miscounted")
    assert fresh(Operation, turn.id).qty_good == 10 and reports_count(turn.id) == 2
    # Once the mill's report is reversed, the turning report may go too.
    mill_report = session().scalar(select(ProductionReport.id).where(ProductionReport.operation_id == mill.id))
    services.correct(users["quality"], key(), mill_report, "wrong operation")
    services.correct(users["quality"], key(), first, "miscounted")
    assert fresh(Operation, turn.id).qty_good == 4


def test_machine_stop_is_downtime_until_resumed(users, plant, make_order):
    order = make_order()
    turn = order.operations[0]
    services.start(users["worker"], key(), turn.id, "run", plant.new)
    services.stop_machine(users["worker"], key(), turn.id, reason(ReasonKind.DOWNTIME, "tool_break"))
    session().rollback()
    down = session().scalars(select(MachineDowntime).where(MachineDowntime.machine_id == plant.new)).one()
    assert down.ends_at is None and down.reason.code == "tool_break"
    assert fresh(Operation, turn.id).status == OperationStatus.PAUSED
    services.resume(users["worker"], key(), turn.id)
    assert fresh(MachineDowntime, down.id).ends_at is not None


def test_labour_time_is_split_between_simultaneous_operations(users, plant, make_order):
    a, b = make_order(), make_order()
    w = users["worker"]
    services.start(w, key(), a.operations[0].id, "run", plant.old)
    services.start(w, key(), b.operations[0].id, "run", plant.new)
    hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with transaction() as s:
        for clock in s.scalars(select(LabourClock)):
            clock.started_at = hour_ago
    services.pause(w, key(), a.operations[0].id, reason(ReasonKind.PAUSE, "break"))
    session().rollback()
    rows = session().scalars(select(LabourRecord).where(LabourRecord.started_at == hour_ago)).all()
    assert sorted(r.operation_id for r in rows) == sorted([a.operations[0].id, b.operations[0].id])
    assert all(r.shared_by == 2 and Decimal("29.9") <= r.minutes <= Decimal("30.1") for r in rows)
    # After the fact, with a reason.
    with pytest.raises(ValidationError):
        services.book_time(w, key(), b.operations[0].id, "run", 30, 0, 0, None, "")
    # Not in the hour already booked on the two operations (nor while still clocked on b) ...
    with pytest.raises(ValidationError, match="minutes booked"):
        services.book_time(w, key(), b.operations[0].id, "setup", 45, 2, 0, None, "forgot to log in")
    # ... but in the 45 minutes before it.
    services.book_time(w, key(), b.operations[0].id, "setup", 45, 2, 0, None, "forgot to log in", hour_ago)
    manual = session().scalars(select(LabourRecord).where(LabourRecord.source == "manual")).one()
    assert (manual.minutes, manual.phase, manual.ended_at) == (Decimal(45), "setup", hour_ago)
    assert fresh(Operation, b.operations[0].id).qty_good == 2


def test_two_tablets_starting_on_one_machine_at_once(app, users, plant, make_order):
    a, b = make_order(), make_order()
    ops_ids, w1, w2, machine = (a.operations[0].id, b.operations[0].id), users["worker"], users["worker2"], plant.new
    outcomes = _in_threads(app, [
        lambda: services.start(w1, key(), ops_ids[0], "run", machine),
        lambda: services.start(w2, key(), ops_ids[1], "run", machine),
    ])
    assert sum(isinstance(o, dict) for o in outcomes) == 1 and sum(isinstance(o, Conflict) for o in outcomes) == 1
    session().rollback()
    running = session().scalar(select(func.count()).select_from(Operation).where(
        Operation.machine_id == machine, Operation.status == OperationStatus.IN_PROGRESS))
    assert running == 1


def test_lot_size_is_what_reaches_an_operation_once_its_predecessors_are_done(users, plant, make_order):
    order = make_order(quantity=10)
    turn, mill = order.operations
    w = users["worker"]
    services.start(w, key(), turn.id, "run", plant.old)
    services.report(w, key(), turn.id, 5, 1, reason(ReasonKind.SCRAP, "surface"))
    assert services.lot_size(fresh(WorkOrder, order.id), fresh(Operation, mill.id)) == 10  # turning still runs
    services.finish(w, key(), turn.id, 3, 1, reason(ReasonKind.SCRAP, "surface"))
    assert services.lot_size(fresh(WorkOrder, order.id), fresh(Operation, mill.id)) == 8
