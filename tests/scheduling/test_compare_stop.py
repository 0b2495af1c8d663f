"""Comparing a draft with the published plan (figures on a hand-built case), publishing with a
conflict for the second of two planners, and stopping a run from any process."""
from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import select

from mes.core.clock import day_end
from mes.core.db import session, transaction, utcnow
from mes.core.errors import Conflict, InvalidTransition
from mes.orders.models import Priority
from mes.scheduling import board, moves, services
from mes.scheduling.models import ScheduledOperation, ScheduleStatus, ScheduleVersion

T0 = dt.datetime(2030, 1, 7, 0, 0, tzinfo=dt.UTC)


def _plan(status: ScheduleStatus, rows: list[tuple[int, int, int, int, int]]) -> int:
    """A plan by hand: (operation, machine, setup minutes, start minute, end minute) from T0."""
    with transaction() as s:
        v = ScheduleVersion(status=status, origin=T0, time_limit_s=0, workers=0,
                            published_at=utcnow() if status == ScheduleStatus.PUBLISHED else None)
        s.add(v)
        s.flush()
        for op, m, setup, a, b in rows:
            start = T0 + dt.timedelta(minutes=a)
            s.add(ScheduledOperation(schedule_id=v.id, operation_id=op, machine_id=m, start_at=start,
                                     setup_start_at=start - dt.timedelta(minutes=setup), end_at=T0 + dt.timedelta(minutes=b)))
        return v.id


def test_compare_figures_on_a_hand_built_case(as_role, plant, make_order):
    # Order A (weight 1) due at the end of Jan 7 (plant time), order B (high priority) too.
    a = make_order(due_date=dt.date(2030, 1, 7), number="WO-A")
    b = make_order(due_date=dt.date(2030, 1, 7), number="WO-B", priority=Priority.HIGH)
    due = day_end(dt.date(2030, 1, 7))
    due_min = int((due - T0).total_seconds() // 60)
    (a1, a2), (b1, b2) = a.operations, b.operations
    published = _plan(ScheduleStatus.PUBLISHED, [
        (a1.id, plant.old, 30, 30, 100), (a2.id, plant.m1, 20, 120, 200),
        (b1.id, plant.new, 15, 15, 60), (b2.id, plant.m1, 0, 200, due_min + 120),  # B 2 h late
    ])
    draft = _plan(ScheduleStatus.DRAFT, [
        (a1.id, plant.new, 15, 15, 60), (a2.id, plant.m1, 20, 80, 140),  # A: other lathe, 60 min earlier
        (b1.id, plant.new, 0, 60, 100), (b2.id, plant.m1, 0, 140, due_min + 30),  # B 30 min late, 90 min earlier
    ])
    c = board.compare(session(), draft, None)
    assert c.base.id == published
    assert (c.before.late_orders, c.after.late_orders) == (1, 1)
    weight = Priority.HIGH.weight
    assert c.before.weighted_tardiness == weight * 120 and c.after.weighted_tardiness == weight * 30
    assert c.before.setup_minutes == 65 and c.after.setup_minutes == 35
    assert c.before.makespan_end - c.after.makespan_end == dt.timedelta(minutes=90)
    # Moved: a1 changed machine; b2 moved 60 min (not > 1 h: not listed); a2 40 min: not listed.
    assert [m.label for m in c.moved] == [f"{a.number}/10"]
    changes = {o.order: o.delta_minutes for o in c.orders}
    assert changes == {"WO-A": -60, "WO-B": -90}
    html = as_role("planner").get(f"/schedule/{draft}/compare").get_data(as_text=True)
    assert "WO-A" in html and "WO-B" in html and 'id="publish"' in html and "1.5 h earlier" in html


def test_second_publisher_gets_a_conflict_and_nothing_is_overwritten(as_role, plant, make_order):
    make_order()
    first = services.start_run(time_limit=1, workers=1, wait=True)
    services.publish(first, None)
    d1, d2 = moves.copy_to_draft(first), moves.copy_to_draft(first)
    session().rollback()
    v1, v2 = session().get(ScheduleVersion, d1).version, session().get(ScheduleVersion, d2).version
    alice, bob = as_role("planner"), as_role("planner")  # two planners, two browsers
    r = alice.post(f"/schedule/{d1}/publish", data={"version": v1, "published": first, "from": "compare"},
                   headers={"HX-Request": "true"})
    assert r.status_code == 204 and r.headers.get("HX-Redirect")
    r = bob.post(f"/schedule/{d2}/publish", data={"version": v2, "published": first}, headers={"HX-Request": "true"})
    assert r.status_code == 409 and f"schedule {d1}" in r.get_data(as_text=True)
    session().rollback()
    assert session().get(ScheduleVersion, d1).status == ScheduleStatus.PUBLISHED
    assert session().get(ScheduleVersion, d2).status == ScheduleStatus.DRAFT
    with pytest.raises(Conflict):
        services.publish(d2, None, expected_published=0)


def test_discard_leaves_the_published_plan(plant, make_order):
    make_order()
    first = services.start_run(time_limit=1, workers=1, wait=True)
    services.publish(first, None)
    draft = moves.copy_to_draft(first)
    session().rollback()
    moves.discard(draft, session().get(ScheduleVersion, draft).version)
    session().rollback()
    assert session().get(ScheduleVersion, draft) is None
    assert session().get(ScheduleVersion, first).status == ScheduleStatus.PUBLISHED
    assert session().scalars(select(ScheduledOperation).where(ScheduledOperation.schedule_id == first)).all()
    with pytest.raises(InvalidTransition):
        moves.discard(first, None)


def test_stop_ends_the_run_within_a_second_keeping_the_best_plan(app, plant, make_order):
    for i in range(40):
        make_order(quantity=20 + i, due_date=dt.date.today() + dt.timedelta(days=1 + i % 3))
    import multiprocessing

    before = set(multiprocessing.active_children())
    schedule_id = services.start_run(time_limit=60, workers=1, options=services.BuildOptions(use_previous=False))
    (process,) = set(multiprocessing.active_children()) - before
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # wait until it has a plan to keep
        session().rollback()
        v = session().get(ScheduleVersion, schedule_id)
        if v.progress_json or v.status != ScheduleStatus.RUNNING:
            break
        time.sleep(0.1)
    assert v.status == ScheduleStatus.RUNNING, v.message
    asked = time.monotonic()
    services.request_stop(schedule_id)
    while time.monotonic() - asked < 10:
        session().rollback()
        v = session().get(ScheduleVersion, schedule_id)
        if v.status != ScheduleStatus.RUNNING:
            break
        time.sleep(0.05)
    took = time.monotonic() - asked
    assert v.status == ScheduleStatus.DRAFT, v.message
    assert took < 1.5, took  # within a second, plus storing the plan on a loaded machine
    assert session().scalars(select(ScheduledOperation).where(ScheduledOperation.schedule_id == schedule_id)).all()
    with pytest.raises(InvalidTransition):
        services.request_stop(schedule_id)
    process.join(15)  # the run's process ends with its run
    assert process.exitcode == 0


def test_stop_requested_from_another_process_is_seen(plant, make_order, monkeypatch):
    """The request is a database row, so it reaches the run wherever it solves: here the flag is
    set with a plain SQL update on another connection, as another process would."""
    make_order()
    seen = []
    real = services.solve_problem

    def watch(problem, time_limit, workers, progress=None, stop=None):  # type: ignore[no-untyped-def]
        from sqlalchemy import create_engine, update

        engine = create_engine(str(services.get_db().engine.url))
        with engine.begin() as c:
            table = ScheduleVersion.__table__
            c.execute(update(table).where(table.c.status == "running").values(stop_requested_at=utcnow()))
        engine.dispose()
        seen.append(stop.wait(2.0))
        return real(problem, time_limit, workers, progress, stop)

    monkeypatch.setattr(services, "solve_problem", watch)
    schedule_id = services.start_run(time_limit=30, workers=1, wait=True)
    assert seen == [True]
    session().rollback()
    assert session().get(ScheduleVersion, schedule_id).status == ScheduleStatus.DRAFT


def test_a_run_whose_process_is_killed_fails_and_a_new_run_can_start(as_role, plant, make_order, monkeypatch):
    import multiprocessing

    for i in range(30):
        make_order(quantity=20 + i, due_date=dt.date.today() + dt.timedelta(days=1 + i % 3))
    before = set(multiprocessing.active_children())  # earlier tests' runs may still be ending
    schedule_id = services.start_run(time_limit=120, workers=1, options=services.BuildOptions(use_previous=False))
    (process,) = [p for p in set(multiprocessing.active_children()) - before if p.name == f"mes-schedule-{schedule_id}"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # solving in its own process
        session().rollback()
        if session().get(ScheduleVersion, schedule_id).progress_json:
            break
        time.sleep(0.1)
    process.kill()
    process.join(5)
    with pytest.raises(Conflict):  # its last heartbeat is fresh: it still counts as running
        services.start_run(time_limit=1, workers=1, wait=True)
    monkeypatch.setattr(services, "DEAD_AFTER", dt.timedelta(seconds=1))
    time.sleep(1.5)
    html = as_role("planner").get(f"/schedule/{schedule_id}").get_data(as_text=True)
    session().rollback()
    assert session().get(ScheduleVersion, schedule_id).status == ScheduleStatus.FAILED
    assert "Start a new run" in html
    next_run = services.start_run(time_limit=1, workers=1, wait=True)
    session().rollback()
    assert session().get(ScheduleVersion, next_run).status == ScheduleStatus.DRAFT


def test_two_planners_publishing_at_the_same_moment(app, plant, make_order):
    import threading

    make_order()
    first = services.start_run(time_limit=1, workers=1, wait=True)
    services.publish(first, None)
    drafts = [moves.copy_to_draft(first), moves.copy_to_draft(first)]
    session().rollback()
    versions = {d: session().get(ScheduleVersion, d).version for d in drafts}
    barrier = threading.Barrier(2)
    results: dict[int, str] = {}

    def publish(draft: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                services.publish(draft, versions[draft], first)
                results[draft] = "published"
            except Conflict as exc:
                results[draft] = exc.code

    threads = [threading.Thread(target=publish, args=(d,)) for d in drafts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == ["published", "published_meanwhile"]
    winner = next(d for d, r in results.items() if r == "published")
    session().rollback()
    statuses = {d: session().get(ScheduleVersion, d).status for d in [first, *drafts]}
    assert statuses == {first: ScheduleStatus.SUPERSEDED, winner: ScheduleStatus.PUBLISHED,
                        next(d for d in drafts if d != winner): ScheduleStatus.DRAFT}
