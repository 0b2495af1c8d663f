"""Planner board speed, and page responsiveness while the optimizer runs.

1. Board data: the demo plant grown to 25 machines and 1,500 planned operations (a published plan
   laid out machine by machine); times the JSON endpoint and the server-drawn SVG page (target:
   data under 300 ms).
2. In Chromium (Playwright, /usr/bin/chromium): from navigation until the board answers a click on
   a bar with its details (target: under 2 s).
3. The demo plant grown to about 1,000 open operations, served by waitress: p95 of the work-order
   list and the floor's dispatch list for --seconds without a run, then during a run of the same
   length (target: under 2x).

    .venv/bin/python benchmarks/board.py --seconds 30
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.cookiejar
import logging
import random
import statistics
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from decimal import Decimal

from sqlalchemy import func, select


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[max(0, int(len(values) * q) - 1)] if values else 0.0


def _app():  # type: ignore[no-untyped-def]
    from mes import demo
    from mes.app import create_app
    from mes.core import migrate

    folder = tempfile.mkdtemp()
    app = create_app({"INSTANCE_PATH": folder, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        migrate.upgrade(app)
        demo.seed()
    return app


def _grow(app, operations: int, machines: int) -> None:  # type: ignore[no-untyped-def]
    """More machines (to ``machines``) and released orders until about ``operations`` open operations."""
    from mes.core.db import session, transaction
    from mes.machines.models import Machine, MachineStatus, WorkCenter
    from mes.operations.rules import OperationInput
    from mes.orders import services as orders
    from mes.orders.models import ACTIVE_STATUSES, Operation, OperationStatus, Priority, WorkOrder
    from mes.routing import services as routing
    from mes.routing.models import Product, ProductFamily

    with app.app_context():
        with transaction() as s:
            have = s.scalar(select(func.count()).select_from(Machine).where(Machine.status == MachineStatus.AVAILABLE))
            centers = [WorkCenter(code=f"BC{n}", name=f"Bench cell {n}") for n in range(3)]
            s.add_all(centers)
            s.flush()
            extra = max(3, machines - have)  # each bench cell needs a machine
            s.add_all([Machine(code=f"BM-{n:02d}", name=f"Bench machine {n}", work_center_id=centers[n % 3].id)
                       for n in range(extra)])
            family = ProductFamily(code="BF", name="Bench family")
            s.add(family)
            s.flush()
            product = Product(code="BP", name="Bench part", family_id=family.id)
            s.add(product)
            s.flush()
            product_id, center_ids = product.id, [c.id for c in centers]
        rid = routing.create_version(product_id)
        for k, center in enumerate(center_ids):
            routing.add_operation(rid, None, OperationInput(name=f"Step {k + 1}", work_center_id=center,
                                                            setup_minutes=Decimal(20), run_minutes=Decimal("1.5")))
        routing.release(rid, None)
        rng = random.Random(3)
        open_ops = session().scalar(select(func.count()).select_from(Operation).join(WorkOrder).where(
            WorkOrder.status.in_(ACTIVE_STATUSES), Operation.status == OperationStatus.PENDING))
        n = 0
        with transaction() as s:
            while open_ops < operations:
                order_id = orders.create_in(s, orders.WorkOrderInput(
                    product_id=product_id, quantity=rng.randint(5, 60), number=f"BW-{n:05d}",
                    due_date=dt.date.today() + dt.timedelta(days=rng.randint(1, 20)), priority=rng.choice(list(Priority))))
                orders.release_in(s, order_id)
                open_ops += 3
                n += 1


def _publish_by_hand(app) -> int:  # type: ignore[no-untyped-def]
    """A published plan with every open operation, machine after machine in due-date order (fast;
    the board does not need an optimal plan to be drawn)."""
    from mes.core.db import transaction, utcnow
    from mes.machines.models import Machine, MachineStatus
    from mes.orders.models import ACTIVE_STATUSES, Operation, OperationStatus, WorkOrder
    from mes.scheduling.models import ScheduledOperation, ScheduleStatus, ScheduleVersion

    with app.app_context(), transaction() as s:
        origin = utcnow().replace(second=0, microsecond=0)
        version = ScheduleVersion(status=ScheduleStatus.PUBLISHED, origin=origin, time_limit_s=0, workers=0,
                                  published_at=origin, objective_json="{}")
        s.add(version)
        s.flush()
        by_center: dict[int, list[int]] = {}
        for m in s.scalars(select(Machine).where(Machine.status == MachineStatus.AVAILABLE).order_by(Machine.id)):
            by_center.setdefault(m.work_center_id, []).append(m.id)
        free: dict[int, dt.datetime] = {}
        ops = s.execute(select(Operation.id, Operation.work_center_id).join(WorkOrder).where(
            WorkOrder.status.in_(ACTIVE_STATUSES), Operation.status == OperationStatus.PENDING)
            .order_by(WorkOrder.due_date, WorkOrder.id, Operation.seq)).all()
        k = 0
        for op_id, center in ops:
            machines = by_center.get(center)
            if not machines:
                continue
            m = machines[k % len(machines)]
            k += 1
            start = free.get(m, origin) + dt.timedelta(minutes=15)
            end = start + dt.timedelta(minutes=45)
            free[m] = end
            s.add(ScheduledOperation(schedule_id=version.id, operation_id=op_id, machine_id=m,
                                     setup_start_at=start - dt.timedelta(minutes=15), start_at=start, end_at=end))
        return version.id


def board_data(repeat: int) -> tuple[object, int]:
    from mes import demo
    from mes.core.db import session
    from mes.machines.models import Machine, MachineStatus
    from mes.scheduling.models import ScheduledOperation

    app = _app()
    _grow(app, 1500, 25)
    schedule_id = _publish_by_hand(app)
    with app.app_context():
        count = session().scalar(select(func.count()).select_from(ScheduledOperation).where(ScheduledOperation.schedule_id == schedule_id))
        machines = session().scalar(select(func.count()).select_from(Machine).where(Machine.status == MachineStatus.AVAILABLE))
    client = app.test_client()
    client.post("/login", data={"username": "planner", "password": demo.DEMO_PASSWORD})
    print(f"1. board data: {count} planned operations on {machines} machines; median and p95 of {repeat} requests")
    for name, url in (("JSON (all operations, week window)", "/schedule/board.json?span=week"),
                      ("page, week window (SVG)", "/schedule/board?span=week"),
                      ("page, day window (SVG)", "/schedule/board?span=day"),
                      ("page, htmx fragment, week", "/schedule/board?span=week&colour=family")):
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            r = client.get(url, headers={"HX-Request": "true"} if "fragment" in name else {})
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, (url, r.status_code)
        print(f"   {name:38s} median {statistics.median(times):7.1f} ms   p95 {_pct(times, 0.95):7.1f} ms")
    return app, count


def browser_interactive(app) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright
    from waitress.server import create_server

    from mes import demo

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.effective_port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{base}/login")
            page.fill("#username", "planner")
            page.fill("#password", demo.DEMO_PASSWORD)
            page.click("#login-form button[type=submit]")
            page.locator("a.user").wait_for()
            results = []
            for _ in range(3):
                t0 = time.perf_counter()
                page.goto(f"{base}/schedule/board?span=week", wait_until="domcontentloaded")
                page.locator("svg.gantt g.op").first.click()
                page.locator("#board-detail:not([hidden])").wait_for()
                results.append(time.perf_counter() - t0)
                bars = page.locator("svg.gantt g.op").count()
            print(f"2. in Chromium: navigation to a click answered, {bars} bars drawn: "
                  + ", ".join(f"{r * 1000:.0f} ms" for r in results) + f" (best {min(results) * 1000:.0f} ms)")
            browser.close()
    finally:
        server.close()


def responsiveness(seconds: float) -> None:
    from waitress.server import create_server

    from mes import demo
    from mes.core.db import session
    from mes.orders.models import ACTIVE_STATUSES, Operation, OperationStatus, WorkOrder
    from mes.scheduling import services
    from mes.scheduling.models import ScheduleStatus, ScheduleVersion

    app = _app()
    _grow(app, 1000, 0)
    with app.app_context():
        open_ops = session().scalar(select(func.count()).select_from(Operation).join(WorkOrder).where(
            WorkOrder.status.in_(ACTIVE_STATUSES), Operation.status != OperationStatus.DONE))
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.effective_port}"

    def opener(path: str, form: dict[str, str]) -> urllib.request.OpenerDirector:
        o = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        o.open(f"{base}{path}", data=urllib.parse.urlencode(form).encode(), timeout=30)
        return o

    planner = opener("/login", {"username": "planner", "password": demo.DEMO_PASSWORD})
    worker = opener("/floor/login", {"badge-badge": "B1001"})

    def measure(span: float) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {"work-order list": [], "floor dispatch list": []}
        end = time.monotonic() + span
        while time.monotonic() < end:
            for name, o, url in (("work-order list", planner, "/orders/"), ("floor dispatch list", worker, "/floor/")):
                t0 = time.perf_counter()
                with o.open(f"{base}{url}", timeout=60) as r:
                    r.read()
                out[name].append((time.perf_counter() - t0) * 1000)
            time.sleep(0.2)
        return out

    print(f"3. {open_ops} open operations; {seconds:.0f} s without a run, then {seconds:.0f} s during a run")
    quiet = measure(seconds)
    with app.test_request_context():
        from mes.core import audit

        with audit.actor_context(audit.Actor(None, "benchmark")):
            schedule_id = services.start_run(time_limit=int(seconds), workers=1)
    busy = measure(seconds)
    with app.app_context():
        while True:
            session().rollback()
            version = session().get(ScheduleVersion, schedule_id)
            if version.status != ScheduleStatus.RUNNING:
                break
            time.sleep(0.5)
        print(f"   the run ended {version.status} after {version.seconds} s ({version.phase})")
    for name in quiet:
        q, b = _pct(quiet[name], 0.95), _pct(busy[name], 0.95)
        print(f"   {name:22s} p95 without a run {q:7.1f} ms ({len(quiet[name])} req), during a run {b:7.1f} ms "
              f"({len(busy[name])} req): {b / q if q else 0:.1f}x")
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: data,browser,run")
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    app = None
    if "data" not in skip or "browser" not in skip:
        app, _count = board_data(args.repeat)
    if "browser" not in skip:
        browser_interactive(app)
    if "run" not in skip:
        responsiveness(args.seconds)


if __name__ == "__main__":
    main()
