"""The scheduling service on the database: the problem it builds from orders, machines, calendars,
downtime, setups and pins; a run stored as a draft; publishing; what the floor then sees."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from mes.core.db import session, transaction, utcnow
from mes.core.errors import Conflict, InvalidTransition
from mes.machines.models import CalendarShift, Machine, MachineDowntime, MachineStatus, WorkCalendar, WorkCenter
from mes.orders import changes, queries
from mes.orders import services as orders
from mes.orders.models import Operation, OperationStatus, Priority
from mes.routing import services as routing
from mes.routing.models import SetupMatrixEntry
from mes.operations.rules import OperationInput
from mes.scheduling import services
from mes.scheduling.engine import checker
from mes.scheduling.engine.problem import (
    Phase,
    Precedence,
    Problem,
    Result,
    ScheduledTask,
    SolveStatus,
    Task,
    TaskStatus,
    Window,
    WindowKind,
)
from mes.scheduling.models import OperationPin, ScheduledOperation, ScheduleStatus, ScheduleVersion

ORIGIN = dt.datetime(2026, 11, 23, 0, 0, tzinfo=dt.UTC)  # a Monday, 08:00 in Shanghai


def build(**kw):  # type: ignore[no-untyped-def]
    session().rollback()
    return services.build_problem(session(), ORIGIN, services.BuildOptions(**kw))


def ops_of(problem: Problem, keys: services.Keys, order_id: int) -> list[Task]:
    return [op for op in problem.operations if keys.jobs[op.job] == order_id]


def test_problem_from_released_orders(plant, make_order):
    order = make_order(quantity=10, due_date=dt.date(2026, 11, 27), priority=Priority.HIGH)
    draft = make_order(release=False)
    problem, keys = build()
    assert set(keys.jobs.values()) == {order.id} and draft.id not in keys.jobs.values()
    job = next(j for j in problem.jobs)
    assert job.weight == Priority.HIGH.weight
    assert job.due == (dt.datetime(2026, 11, 28, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))) - ORIGIN).total_seconds() // 60
    turn, mill = ops_of(problem, keys, order.id)
    # Explicit machines with their own times; the mill step on any machine of its work center.
    assert turn.durations == {services.machine_key(plant.old): 30 + 40, services.machine_key(plant.new): 15 + 20}
    assert mill.durations == {services.machine_key(plant.m1): 20 + 35}
    assert problem.precedences == (Precedence(turn.key, mill.key),)
    assert turn.family == mill.family == job.family


def test_done_and_skipped_operations_drop_out_and_running_ones_stay_fixed(plant, make_order):
    order = make_order(quantity=10)
    services_insert = changes.insert_operation(order.id, order.version, OperationInput(
        name="Paint", work_center_id=plant.mill, run_minutes=Decimal(1)), None, "paint")
    session().rollback()
    with transaction() as s:
        turn = s.scalar(select(Operation).where(Operation.work_order_id == order.id, Operation.seq == 10))
        turn.status, turn.qty_good = OperationStatus.DONE, 10
        mill = s.scalar(select(Operation).where(Operation.work_order_id == order.id, Operation.seq == 20))
        mill.status, mill.qty_good, mill.machine_id = OperationStatus.IN_PROGRESS, 4, plant.m1
        mill.started_at = ORIGIN - dt.timedelta(minutes=30)
    problem, keys = build()
    mill_op, paint = ops_of(problem, keys, order.id)
    assert mill_op.status == TaskStatus.STARTED and mill_op.machine == services.machine_key(plant.m1)
    assert mill_op.remaining == 21  # 6 pieces x 3.5 minutes
    assert paint.key == services.op_key(services_insert)
    assert problem.precedences == (Precedence(mill_op.key, paint.key),)


def test_calendars_downtime_and_unavailable_machines(plant, make_order):
    make_order()
    with transaction() as s:
        cal = WorkCalendar(code="1S", name="one shift", shifts=[CalendarShift(weekday=d, start_minute=480, end_minute=1020) for d in range(5)])
        s.add(cal)
        s.get(WorkCenter, plant.turn).calendar = cal
        s.add(MachineDowntime(machine_id=plant.new, starts_at=ORIGIN + dt.timedelta(hours=2), ends_at=ORIGIN + dt.timedelta(hours=10)))
        s.get(Machine, plant.old).status = MachineStatus.DOWN
    problem, keys = build()
    machines = {m.key: m for m in problem.machines}
    assert services.machine_key(plant.old) not in machines
    new = machines[services.machine_key(plant.new)]
    assert Window(120, 600, WindowKind.BREAKDOWN) in new.windows
    off = [w for w in new.windows if w.kind == WindowKind.OFF_SHIFT]
    assert off[0] == Window(540, 1440 + 0, WindowKind.OFF_SHIFT)  # 17:00 to 08:00 next day (Shanghai)
    assert not [w for w in machines[services.machine_key(plant.m1)].windows]  # no calendar: always open


def test_setup_matrix_per_machine(plant, make_order):
    make_order()
    with transaction() as s:
        s.add(SetupMatrixEntry(work_center_id=plant.turn, from_family_id=plant.fa, to_family_id=plant.fb, minutes=45))
    problem, _ = build()
    lathe = next(m for m in problem.machines if m.key == services.machine_key(plant.new))
    assert lathe.setups.minutes(f"f{plant.fa}", f"f{plant.fb}") == 45
    assert lathe.setups.minutes(f"f{plant.fb}", f"f{plant.fa}") == 30  # the work center's default
    assert lathe.setups.minutes(f"f{plant.fa}", f"f{plant.fa}") == 0


def test_transfer_batch_overlaps_operations(plant):
    rid = routing.create_version(plant.p2)
    routing.add_operation(rid, None, OperationInput(name="Cut", work_center_id=plant.turn, run_minutes=Decimal(2), transfer_batch=5))
    routing.add_operation(rid, None, OperationInput(name="Mill", work_center_id=plant.mill, run_minutes=Decimal(3)))
    routing.release(rid, None)
    order_id = orders.create(orders.WorkOrderInput(product_id=plant.p2, quantity=50, due_date=dt.date(2026, 12, 20)))
    orders.release(order_id, None)
    problem, keys = build()
    (arc,) = [a for a in problem.precedences if keys.jobs[next(o.job for o in problem.operations if o.key == a.before)] == order_id]
    assert arc.finish_to_start is None and arc.start_to_start == 10 and arc.end_to_end == 15


def test_order_without_an_available_machine_is_left_out_with_a_reason(plant, make_order):
    order = make_order()
    other = make_order()
    with transaction() as s:
        s.get(Machine, plant.m1).status = MachineStatus.MAINTENANCE
    problem, keys = build()
    assert keys.jobs == {}
    assert {"order": order.number, "seq": 20, "name": "Mill"} in keys.left_out
    assert any(item["order"] == other.number for item in keys.left_out)


def test_pins_and_paused_operations(plant, make_order):
    order = make_order()
    with transaction() as s:
        s.add(OperationPin(operation_id=order.operations[0].id, machine_id=plant.old, start_at=ORIGIN + dt.timedelta(hours=3)))
    problem, keys = build()
    turn = ops_of(problem, keys, order.id)[0]
    assert turn.pinned_machine == services.machine_key(plant.old) and turn.pinned_start == 180


def test_run_stores_a_feasible_draft_and_publish_supersedes(plant, make_order):
    for i in range(4):
        make_order(quantity=5 + i, due_date=dt.date.today() + dt.timedelta(days=i + 1))
    first = services.start_run(time_limit=3, workers=1, wait=True)
    session().rollback()
    version = session().get(ScheduleVersion, first)
    assert version.status == ScheduleStatus.DRAFT, version.message
    rows = session().scalars(select(ScheduledOperation).where(ScheduledOperation.schedule_id == first)).all()
    assert len(rows) == 8
    # Independently feasible: rebuild the problem at the run's origin and check the stored plan.
    problem, keys = services.build_problem(session(), version.origin, services.BuildOptions())
    inverse = {v: k for k, v in keys.operations.items()}
    minutes = lambda t: int((t - version.origin).total_seconds() // 60)  # noqa: E731
    result = Result(
        status=SolveStatus.FEASIBLE, phase=Phase.HEURISTIC, objective={}, levels=(), lower_bound=None, seconds=0,
        operations=tuple(ScheduledTask(inverse[r.operation_id], next(o.job for o in problem.operations if o.key == inverse[r.operation_id]),
                                       services.machine_key(r.machine_id), minutes(r.start_at), minutes(r.end_at),
                                       minutes(r.start_at) - minutes(r.setup_start_at)) for r in rows))
    assert checker.check(problem, result) == []
    services.publish(first, version.version)
    second = services.start_run(time_limit=2, workers=1, wait=True)
    services.publish(second, None)
    session().rollback()
    assert session().get(ScheduleVersion, first).status == ScheduleStatus.SUPERSEDED
    assert session().get(ScheduleVersion, second).status == ScheduleStatus.PUBLISHED
    with pytest.raises(InvalidTransition):
        services.publish(first, None)


def test_only_one_run_at_a_time(plant, make_order):
    make_order()
    with transaction() as s:
        s.add(ScheduleVersion(status=ScheduleStatus.RUNNING, origin=utcnow(), time_limit_s=30, workers=1))
    with pytest.raises(Conflict):
        services.start_run(time_limit=1, workers=1, wait=True)


def test_infeasible_data_fails_the_run_naming_the_operation(plant, make_order):
    order = make_order()
    with transaction() as s:
        # The second step pinned before the first can possibly end.
        s.add(OperationPin(operation_id=order.operations[0].id, start_at=utcnow() + dt.timedelta(hours=5)))
        s.add(OperationPin(operation_id=order.operations[1].id, start_at=utcnow() + dt.timedelta(hours=1)))
    schedule_id = services.start_run(time_limit=2, workers=1, wait=True)
    session().rollback()
    version = session().get(ScheduleVersion, schedule_id)
    assert version.status == ScheduleStatus.FAILED
    (note,) = services.notes(version)
    assert f"{order.number}/20" in note or f"{order.number}/10" in note
    assert session().scalar(select(func.count()).select_from(ScheduledOperation)) == 0


def test_published_plan_orders_the_dispatch_list(as_role, plant, make_order):
    a = make_order(due_date=dt.date.today() + dt.timedelta(days=9), number="LATE-DUE")
    b = make_order(due_date=dt.date.today() + dt.timedelta(days=1), number="SOON-DUE")
    schedule_id = services.start_run(time_limit=2, workers=1, wait=True)
    services.publish(schedule_id, None)
    html = as_role("worker").get("/floor/").get_data(as_text=True)
    assert html.index("SOON-DUE") < html.index("LATE-DUE")
    detail = as_role("planner").get(f"/orders/{a.id}").get_data(as_text=True)
    assert "L-NEW" in detail or "L-OLD" in detail
    # The order's own page and API read the published plan's times (plugged in by the app factory).
    first = queries.progress(queries.get(a.id))[0]
    assert first.planned_machine in ("L-NEW", "L-OLD") and first.planned_start < first.planned_end
    session().rollback()
    assert queries.progress(queries.get(b.id))[0].planned_start is not None


def test_schedule_pages(as_role, plant, make_order):
    make_order()
    client = as_role("planner")
    r = client.post("/schedule/run", data={"time_limit": "2", "objective": "tardiness_makespan"})
    assert r.status_code == 303
    schedule_url = r.headers["Location"]
    for _ in range(100):
        html = client.get(schedule_url).get_data(as_text=True)
        if "Publish to the shop floor" in html:
            break
        import time

        time.sleep(0.1)
    assert "Publish to the shop floor" in html
    assert client.post("/schedule/run", data={"time_limit": "0"}).status_code == 422
    # The owner reads the plans and their figures, and may neither run nor publish.
    owner = as_role("owner")
    listing = owner.get("/schedule/")
    assert listing.status_code == 200 and "Run the scheduler" not in listing.get_data(as_text=True)
    page = owner.get(schedule_url)
    assert page.status_code == 200 and "Publish to the shop floor" not in page.get_data(as_text=True)
    assert "Operations planned" in page.get_data(as_text=True)
    assert owner.post("/schedule/run", data={"time_limit": "2"}).status_code == 403
    assert owner.post(schedule_url + "/publish", data={"version": "1"}).status_code == 403
    assert as_role("worker").get("/schedule/").status_code == 403


def test_notes_name_orders_left_out_in_the_users_language(app, plant, make_order):
    number = make_order().number
    with transaction() as s:
        s.get(Machine, plant.m1).status = MachineStatus.DOWN
    schedule_id = services.start_run(time_limit=1, workers=1, wait=True)
    session().rollback()
    version = session().get(ScheduleVersion, schedule_id)
    assert version.status == ScheduleStatus.DRAFT
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        (note,) = services.notes(version)
    assert number in note and "未排产" in note
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        assert "is not planned" in services.notes(version)[0]


def test_frozen_horizon_keeps_the_published_start(plant, make_order):
    order = make_order()
    first = services.start_run(time_limit=2, workers=1, wait=True)
    services.publish(first, None)
    session().rollback()
    before = {r.operation_id: (r.machine_id, r.start_at) for r in
              session().scalars(select(ScheduledOperation).where(ScheduledOperation.schedule_id == first))}
    # A re-plan that freezes the next day keeps what the floor was told.
    second = services.start_run(time_limit=2, workers=1, wait=True,
                                options=services.BuildOptions(frozen_minutes=24 * 60))
    session().rollback()
    after = {r.operation_id: (r.machine_id, r.start_at) for r in
             session().scalars(select(ScheduledOperation).where(ScheduledOperation.schedule_id == second))}
    assert session().get(ScheduleVersion, second).status == ScheduleStatus.DRAFT
    turn = order.operations[0].id
    assert after[turn][0] == before[turn][0]
    assert abs((after[turn][1] - before[turn][1]).total_seconds()) <= 60


def test_downtime_windows_are_clipped_to_the_horizon():
    horizon = services.HORIZON_DAYS * 1440
    day = dt.timedelta(days=1)
    window = services.downtime_window
    assert window(ORIGIN, ORIGIN + 90 * day, None, horizon) is None  # starts after the horizon
    assert window(ORIGIN, ORIGIN + day, None, horizon) == Window(1440, horizon, WindowKind.BREAKDOWN)
    assert window(ORIGIN, ORIGIN - day, ORIGIN + day, horizon) == Window(0, 1440, WindowKind.BREAKDOWN)
    assert window(ORIGIN, ORIGIN + day, ORIGIN + 200 * day, horizon).end == horizon
    assert window(ORIGIN, ORIGIN - 2 * day, ORIGIN - day, horizon) is None


def _running(heartbeat_age: dt.timedelta, created_age: dt.timedelta = dt.timedelta(minutes=1)) -> int:
    with transaction() as s:
        run = ScheduleVersion(status=ScheduleStatus.RUNNING, origin=utcnow(), time_limit_s=600, workers=1,
                              created_at=utcnow() - created_age, heartbeat_at=utcnow() - heartbeat_age)
        s.add(run)
        s.flush()
        return run.id


def test_a_run_whose_process_died_is_failed_and_does_not_block(plant, make_order):
    make_order()
    dead = _running(heartbeat_age=dt.timedelta(seconds=45))
    schedule_id = services.start_run(time_limit=1, workers=1, wait=True)
    session().rollback()
    assert session().get(ScheduleVersion, dead).status == ScheduleStatus.FAILED
    assert session().get(ScheduleVersion, schedule_id).status == ScheduleStatus.DRAFT
    (note,) = services.notes(session().get(ScheduleVersion, dead))
    assert "stopped without a result" in note


def test_a_live_run_still_blocks(plant, make_order):
    make_order()
    _running(heartbeat_age=dt.timedelta(seconds=2))
    with pytest.raises(Conflict):
        services.start_run(time_limit=1, workers=1, wait=True)


@pytest.mark.parametrize("page", ["list", "detail"])
def test_looking_at_runs_fails_the_dead_one(as_role, plant, page):
    dead = _running(heartbeat_age=dt.timedelta(minutes=2))
    client = as_role("planner")
    client.post("/locale", data={"locale": "zh_CN"})
    html = client.get("/schedule/" if page == "list" else f"/schedule/{dead}").get_data(as_text=True)
    session().rollback()
    assert session().get(ScheduleVersion, dead).status == ScheduleStatus.FAILED
    if page == "detail":
        assert "排产" in html and "stopped without a result" not in html  # the note in the planner's language


def test_the_background_run_beats(plant, make_order, monkeypatch):
    make_order()
    monkeypatch.setattr(services, "HEARTBEAT_SECONDS", 0.05)
    seen = []
    real = services.solve_problem

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        import time

        time.sleep(0.4)
        with services.get_db().read_session() as s:
            seen.append(s.scalars(select(ScheduleVersion.heartbeat_at).where(ScheduleVersion.status == ScheduleStatus.RUNNING)).one())
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "solve_problem", slow)
    before = utcnow()
    services.start_run(time_limit=1, workers=1, wait=True)
    assert seen and seen[0] > before
