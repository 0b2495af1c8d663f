"""The planner board: its page and data, moving operations by hand (refusals, pins, re-timing
checked by the engine's checker), repair keeping pins and the frozen horizon."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from mes.core.db import session, transaction, utcnow
from mes.core.errors import Conflict, InvalidTransition, StaleEdit
from mes.machines.models import CalendarShift, WorkCalendar, WorkCenter
from mes.orders.models import Operation, OperationStatus
from mes.scheduling import moves, services
from mes.scheduling.engine import checker
from mes.scheduling.engine.problem import Phase, Result, ScheduledTask, SolveStatus
from mes.scheduling.models import OperationPin, ScheduledOperation, ScheduleStatus, ScheduleVersion


def rows_of(schedule_id: int) -> dict[int, ScheduledOperation]:
    session().rollback()
    return {r.operation_id: r for r in session().scalars(
        select(ScheduledOperation).where(ScheduledOperation.schedule_id == schedule_id))}


def stored_plan_is_feasible(schedule_id: int) -> None:
    """Rebuild the problem at the draft's origin and check the stored rows with the checker."""
    session().rollback()
    version = session().get(ScheduleVersion, schedule_id)
    problem, keys = services.build_problem(session(), version.origin, services.BuildOptions(use_previous=False))
    inverse = {v: k for k, v in keys.operations.items()}
    jobs = {o.key: o.job for o in problem.operations}

    def minutes(t: dt.datetime) -> int:
        return int((t - version.origin).total_seconds() // 60)

    rows = rows_of(schedule_id).values()
    result = Result(status=SolveStatus.FEASIBLE, phase=Phase.REPAIR, objective={}, levels=(), lower_bound=None, seconds=0,
                    operations=tuple(ScheduledTask(inverse[r.operation_id], jobs[inverse[r.operation_id]],
                                                   services.machine_key(r.machine_id), minutes(r.start_at), minutes(r.end_at),
                                                   minutes(r.start_at) - minutes(r.setup_start_at)) for r in rows))
    assert checker.check(problem, result) == []


@pytest.fixture
def published(plant, make_order):  # type: ignore[no-untyped-def]
    orders = [make_order(quantity=5 + i, due_date=dt.date.today() + dt.timedelta(days=i + 1), number=f"WO-B{i}")
              for i in range(4)]
    schedule_id = services.start_run(time_limit=2, workers=1, wait=True)
    services.publish(schedule_id, None)
    session().rollback()
    return schedule_id, orders


def test_board_page_and_data(as_role, plant, published):
    schedule_id, _orders = published
    client = as_role("planner")
    html = client.get("/schedule/board?span=week").get_data(as_text=True)
    assert "<svg" in html and "L-OLD" in html and "L-NEW" in html and "M-1" in html
    assert html.count('class="op') == 8 and "TURN" in html and "MILL" in html
    assert 'class="now"' in html  # the current time is marked
    for colour in ("order", "family"):
        assert client.get(f"/schedule/board?span=day&colour={colour}&zoom=3").status_code == 200
    data = client.get("/schedule/board.json?span=week").get_json()
    assert data["schedule"]["id"] == schedule_id and len(data["operations"]) == 8
    assert {m["code"] for wc in data["work_centers"] for m in wc["machines"]} == {"L-OLD", "L-NEW", "M-1"}
    op = data["operations"][0]
    assert {"order", "seq", "start", "end", "setup_start", "late", "at_risk", "pinned"} <= set(op)
    # Hostile window parameters fall back to defaults; an unknown plan is a 404.
    assert client.get("/schedule/board?start=9999-99-99T99:99&zoom=x&span=year").status_code == 200
    assert client.get("/schedule/board?schedule=999999").status_code == 404
    assert as_role("owner").get("/schedule/board").status_code == 200
    assert as_role("worker").get("/schedule/board").status_code == 403


def test_board_marks_late_orders_and_downtime(as_role, plant, make_order):
    make_order(quantity=50, due_date=dt.date.today() - dt.timedelta(days=1), number="WO-LATE")
    with transaction() as s:
        from mes.machines.models import MachineDowntime

        s.add(MachineDowntime(machine_id=plant.m1, starts_at=utcnow() + dt.timedelta(hours=2),
                              ends_at=utcnow() + dt.timedelta(hours=4), kind="maintenance"))
    services.publish(services.start_run(time_limit=1, workers=1, wait=True), None)
    html = as_role("planner").get("/schedule/board?span=week").get_data(as_text=True)
    assert re.search(r'class="op late[^"]*"[^>]*data-order-no="WO-LATE"', html)
    assert 'class="shade down"' in html


def test_empty_board_says_nothing_is_published(as_role, plant):
    html = as_role("planner").get("/schedule/board").get_data(as_text=True)
    assert "No plan is published yet" in html


def _machine_sequence(schedule_id: int, machine_id: int) -> list[int]:
    return [r.operation_id for r in sorted((r for r in rows_of(schedule_id).values() if r.machine_id == machine_id),
                                           key=lambda r: r.start_at)]


def test_move_to_another_machine_pins_and_retimes(plant, published):
    schedule_id, orders = published
    draft = moves.copy_to_draft(schedule_id)
    session().rollback()
    version = session().get(ScheduleVersion, draft)
    turn = orders[2].operations[0]
    where = rows_of(draft)[turn.id].machine_id
    target = plant.old if where == plant.new else plant.new
    result = moves.move_operation(draft, version.version, moves.Move(turn.id, target, position=0))
    assert result.operations
    rows = rows_of(draft)
    assert rows[turn.id].machine_id == target
    assert _machine_sequence(draft, target)[0] == turn.id
    # The mill step still follows the turning step (precedence re-timed), and everything is feasible.
    assert rows[orders[2].operations[1].id].start_at >= rows[turn.id].end_at
    stored_plan_is_feasible(draft)
    pin = session().get(OperationPin, turn.id)
    assert pin is not None and pin.machine_id == target
    # The published plan is untouched.
    assert rows_of(schedule_id)[turn.id].machine_id == where
    # Unpin: the pin goes, the draft stays.
    version = session().get(ScheduleVersion, draft)
    moves.unpin(draft, version.version, turn.id)
    session().rollback()
    assert session().get(OperationPin, turn.id) is None


def test_moves_refused_with_a_reason_and_nothing_changes(plant, published):
    schedule_id, orders = published
    draft = moves.copy_to_draft(schedule_id)
    session().rollback()
    v = session().get(ScheduleVersion, draft).version
    before = {k: (r.machine_id, r.start_at) for k, r in rows_of(draft).items()}
    turn, mill = orders[0].operations
    with pytest.raises(Conflict, match="cannot do"):  # the mill cannot turn
        moves.move_operation(draft, v, moves.Move(turn.id, plant.m1))
    with pytest.raises(Conflict, match="route"):  # the mill step before its own turning step
        first_turn = rows_of(draft)[turn.id].machine_id
        moves.move_operation(draft, v, moves.Move(turn.id, first_turn, position=None))
        moves.move_operation(draft, session().get(ScheduleVersion, draft).version,
                             moves.Move(mill.id, plant.m1, position=0, start_at=utcnow() + dt.timedelta(minutes=1)))
    session().rollback()
    v = session().get(ScheduleVersion, draft).version
    with pytest.raises(Conflict, match="past"):
        moves.move_operation(draft, v, moves.Move(turn.id, plant.old, start_at=utcnow() - dt.timedelta(hours=1)))
    with pytest.raises(StaleEdit):
        moves.move_operation(draft, v - 1 if v > 1 else v + 1, moves.Move(turn.id, plant.old))
    with pytest.raises(Conflict, match="published"):  # the board was drawn when another plan was published
        moves.move_operation(draft, v, moves.Move(turn.id, plant.old), expected_published=schedule_id + 1000)
    with pytest.raises(InvalidTransition):  # the published plan itself is not changed by hand
        moves.move_operation(schedule_id, None, moves.Move(turn.id, plant.old))
    with transaction() as s:
        s.get(Operation, orders[1].operations[0].id).status = OperationStatus.IN_PROGRESS
    with pytest.raises(Conflict, match="started"):
        moves.move_operation(draft, v, moves.Move(orders[1].operations[0].id, plant.old))
    after = {k: (r.machine_id, r.start_at) for k, r in rows_of(draft).items()}
    assert session().get(OperationPin, orders[1].operations[0].id) is None
    del before, after


def test_pin_during_off_shift_is_refused(plant, published):
    schedule_id, orders = published
    with transaction() as s:
        calendar = WorkCalendar(code="DAY", name="Day shift")
        s.add(calendar)
        s.flush()
        for weekday in range(7):
            s.add(CalendarShift(calendar_id=calendar.id, weekday=weekday, start_minute=8 * 60, end_minute=16 * 60))
        s.get(WorkCenter, plant.turn).calendar_id = calendar.id
    draft = moves.copy_to_draft(schedule_id)
    session().rollback()
    v = session().get(ScheduleVersion, draft).version
    from mes.core.clock import plant_tz

    night = (utcnow().astimezone(plant_tz()) + dt.timedelta(days=1)).replace(hour=2, minute=0, second=0, microsecond=0)
    with pytest.raises(Conflict, match="does not work"):
        moves.move_operation(draft, v, moves.Move(orders[3].operations[0].id, plant.old, start_at=night.astimezone(dt.UTC)))
    session().rollback()
    assert session().get(OperationPin, orders[3].operations[0].id) is None


def test_repair_keeps_pins_and_the_frozen_horizon(plant, published):
    schedule_id, orders = published
    draft = moves.copy_to_draft(schedule_id)
    session().rollback()
    turn = orders[3].operations[0]
    where = rows_of(draft)[turn.id].machine_id
    target = plant.old if where == plant.new else plant.new
    moves.move_operation(draft, session().get(ScheduleVersion, draft).version, moves.Move(turn.id, target, position=0))
    frozen_first = min(rows_of(draft).values(), key=lambda r: r.start_at)
    repaired = services.start_run(time_limit=2, workers=1, wait=True, options=services.BuildOptions(
        use_previous=True, previous_schedule_id=draft, frozen_minutes=24 * 60))
    session().rollback()
    assert session().get(ScheduleVersion, repaired).status == ScheduleStatus.DRAFT, session().get(ScheduleVersion, repaired).message
    rows = rows_of(repaired)
    assert rows[turn.id].machine_id == target  # the pin held
    kept = rows[frozen_first.operation_id]
    assert (kept.machine_id, kept.start_at) == (frozen_first.machine_id, frozen_first.start_at)  # frozen
    stored_plan_is_feasible(repaired)


def test_board_move_through_the_page(as_role, plant, published):
    schedule_id, orders = published
    client = as_role("planner")
    r = client.post(f"/schedule/board/{schedule_id}/copy", headers={"HX-Request": "true"})
    draft = int(r.headers["HX-Redirect"].rsplit("=", 1)[1])
    html = client.get(f"/schedule/board?schedule={draft}&span=week").get_data(as_text=True)
    assert 'id="move-form"' in html and "Repair" in html
    session().rollback()
    version = session().get(ScheduleVersion, draft).version
    turn = orders[0].operations[0]
    target = plant.old if rows_of(draft)[turn.id].machine_id == plant.new else plant.new
    r = client.post(f"/schedule/board/{draft}/move?span=week", headers={"HX-Request": "true", "HX-Target": "board"},
                    data={"version": version, "published": schedule_id, "operation_id": turn.id, "machine_id": target, "position": "1"})
    assert r.status_code == 200, r.data
    assert "re-timed" in r.get_data(as_text=True) and 'data-pinned="1"' in r.get_data(as_text=True)
    r = client.post(f"/schedule/board/{draft}/move", headers={"HX-Request": "true"},
                    data={"version": version, "published": schedule_id, "operation_id": turn.id, "machine_id": plant.m1})
    assert r.status_code == 409  # stale version (the move above changed it)
    session().rollback()
    version = session().get(ScheduleVersion, draft).version
    r = client.post(f"/schedule/board/{draft}/move", headers={"HX-Request": "true"},
                    data={"version": version, "published": schedule_id, "operation_id": turn.id, "machine_id": plant.m1})
    assert r.status_code == 409 and "cannot do" in r.get_data(as_text=True)
    r = client.post(f"/schedule/board/{draft}/move", data={"version": version, "operation_id": turn.id, "machine_id": target,
                                                           "start_at": "garbage"})
    assert r.status_code == 422
    r = client.post(f"/schedule/board/{draft}/unpin", headers={"HX-Request": "true"},
                    data={"version": version, "operation_id": turn.id})
    assert r.status_code == 200
    assert as_role("owner").post(f"/schedule/board/{draft}/unpin", data={"version": version, "operation_id": turn.id}).status_code == 403


def test_board_shows_a_running_run_with_progress_and_stop(as_role, plant, published):
    import json

    with transaction() as s:
        run = ScheduleVersion(status=ScheduleStatus.RUNNING, origin=utcnow(), time_limit_s=60, workers=1, heartbeat_at=utcnow(),
                              progress_json=json.dumps({"phase": "lns", "objective": [1234, 5], "lower_bound": 900, "seconds": 3.0}))
        s.add(run)
        s.flush()
        run_id = run.id
    client = as_role("planner")
    html = client.get("/schedule/board?span=week").get_data(as_text=True)
    assert f'id="run-progress-{run_id}"' in html and "1234 / 5" in html and ">900<" in html
    assert f"/schedule/{run_id}/progress" in html and "Stop and keep the best plan" in html
    r = client.post(f"/schedule/{run_id}/stop?from=board", headers={"HX-Request": "true"})
    assert r.status_code == 200 and f'id="run-progress-{run_id}"' in r.get_data(as_text=True)
    session().rollback()
    assert session().get(ScheduleVersion, run_id).stop_requested_at is not None
    assert as_role("owner").get(f"/schedule/{run_id}/progress").status_code == 200
    assert client.get("/schedule/999999/progress").status_code == 404


def test_run_from_the_board_comes_back_to_the_board(as_role, plant, published):
    client = as_role("planner")
    r = client.post("/schedule/run", headers={"HX-Request": "true"},
                    data={"time_limit": "1", "objective": "tardiness_flow", "frozen_hours": "2", "stable": "1", "from": "board"})
    assert r.status_code == 204 and r.headers["HX-Redirect"] == "/schedule/board"
    session().rollback()
    run = session().scalar(select(ScheduleVersion).order_by(ScheduleVersion.id.desc()))
    html = client.get("/schedule/board").get_data(as_text=True)
    session().rollback()
    assert f'id="run-progress-{run.id}"' in html or session().get(ScheduleVersion, run.id).status != ScheduleStatus.RUNNING
    import time

    for _ in range(200):
        session().rollback()
        if session().get(ScheduleVersion, run.id).status != ScheduleStatus.RUNNING:
            break
        time.sleep(0.1)
    assert session().get(ScheduleVersion, run.id).status == ScheduleStatus.DRAFT
    html = client.get(f"/schedule/{run.id}/progress", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "hx-trigger" not in html and f"/schedule/{run.id}/compare" in html  # polling ends, the plan is offered
