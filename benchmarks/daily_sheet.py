"""Daily sheet and dashboard speed: a plant of 50 machines in 10 work centers (two shifts), a day
with 5,000 production reports (plus labour, downtime and a published plan), 1,000 reports a day
for the week before and so far today. Times the sheet (figures + PDF, target < 2 s), its CSV and
Excel files, and the dashboard's data (target < 200 ms), in a temporary SQLite database (or
MES_DATABASE_URL).

    .venv/bin/python benchmarks/daily_sheet.py [--reports 5000] [--machines 50] [--repeat 5]
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import statistics
import tempfile
import time
from decimal import Decimal

PAGE = re.compile(rb"/Type /Page\b(?!s)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=5000)
    parser.add_argument("--machines", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", help="Also write the sheet's PDF here.")
    args = parser.parse_args()

    from sqlalchemy import select

    from mes.app import create_app
    from mes.core import migrate
    from mes.core.clock import day_start, plant_today
    from mes.core.db import session, transaction
    from mes.core.models import User
    from mes.machines.models import (
        CalendarShift,
        Machine,
        MachineDowntime,
        Reason,
        ReasonKind,
        WorkCalendar,
        WorkCenter,
    )
    from mes.orders.models import (
        Operation,
        OperationStatus,
        ProductionReport,
        WorkOrder,
        WorkOrderStatus,
    )
    from mes.reports import daily, exports, sheet_pdf
    from mes.reports import dashboard as dashboard_module
    from mes.reports.dashboard import dashboard
    from mes.routing.models import Product, ProductFamily
    from mes.scheduling.models import (
        ScheduledOperation,
        ScheduleStatus,
        ScheduleVersion,
    )
    from mes.shopfloor.models import LabourRecord

    folder = tempfile.mkdtemp()
    app = create_app({"INSTANCE_PATH": folder, "SECRET_KEY": "bench", "PLANT_TIMEZONE": "Asia/Shanghai"})
    rng = random.Random(7)
    with app.app_context():
        migrate.upgrade(app)
        started = time.perf_counter()
        today = plant_today()
        day = today - dt.timedelta(days=1)

        def at(d: dt.date, minute: float) -> dt.datetime:
            return (day_start(d) + dt.timedelta(minutes=minute)).astimezone(dt.UTC)

        with transaction() as s:
            calendar = WorkCalendar(code="2S", name="Two shifts")
            s.add(calendar)
            s.flush()
            s.add_all([CalendarShift(calendar_id=calendar.id, weekday=d, start_minute=a, end_minute=b)
                       for d in range(7) for a, b in ((360, 840), (840, 1320))])
            centers = [WorkCenter(code=f"WC{n:02d}", name=f"Center {n}", calendar_id=calendar.id) for n in range(10)]
            s.add_all(centers)
            s.flush()
            machines = [Machine(code=f"M{n:03d}", name=f"Machine {n}", work_center_id=centers[n % 10].id,
                                has_data_connection=False) for n in range(args.machines)]
            families = [ProductFamily(code=f"F{n}", name=f"Family {n}") for n in range(5)]
            s.add_all(machines + families)
            s.flush()
            products = [Product(code=f"P{n:03d}", name=f"Part {n}", family_id=families[n % 5].id) for n in range(40)]
            workers = [User(username=f"w{n:02d}", display_name=f"Worker {n}") for n in range(25)]
            s.add_all(products + workers)
            s.flush()
            orders, ops = [], []
            for n in range(args.machines * 4):
                machine = machines[n % args.machines]
                order = WorkOrder(number=f"WO-{n:05d}", product_id=products[n % 40].id, quantity=500,
                                  due_date=today + dt.timedelta(days=rng.randint(-5, 20)), status=WorkOrderStatus.IN_PROGRESS)
                s.add(order)
                s.flush()
                op = Operation(work_order_id=order.id, seq=10, name="Run", work_center_id=machine.work_center_id,
                               run_minutes=Decimal("1.5"), status=OperationStatus.IN_PROGRESS, machine_id=machine.id)
                s.add(op)
                orders.append(order)
                ops.append(op)
            s.flush()
            scrap_codes = [r.code for r in s.scalars(select(Reason).where(Reason.kind == ReasonKind.SCRAP))]
            stop_reasons = [r.id for r in s.scalars(select(Reason).where(Reason.kind == ReasonKind.DOWNTIME))]

            def reports(d: dt.date, count: int, until: float = 1320) -> None:
                s.add_all([ProductionReport(
                    operation_id=op.id, work_order_id=op.work_order_id, machine_id=op.machine_id,
                    user_id=rng.choice(workers).id, good_qty=rng.randint(1, 20), scrap_qty=(scrap := rng.choice((0, 0, 0, 1, 2))),
                    scrap_reason=rng.choice(scrap_codes) if scrap else None, reported_at=at(d, rng.uniform(360, until)))
                    for op in (rng.choice(ops) for _ in range(count))])

            reports(day, args.reports)
            for back in range(2, 9):
                reports(today - dt.timedelta(days=back), 1000)
            now_minute = (dt.datetime.now(dt.UTC) - day_start(today)).total_seconds() / 60
            reports(today, 1000, until=max(1.0, min(now_minute, 1320)))
            for d in [today - dt.timedelta(days=b) for b in range(1, 9)]:
                for op in ops[: args.machines]:
                    for shift in (360, 840):
                        start = shift + rng.uniform(0, 60)
                        s.add(LabourRecord(user_id=rng.choice(workers).id, operation_id=op.id, machine_id=op.machine_id,
                                           phase="run", started_at=at(d, start), ended_at=at(d, start + 400),
                                           minutes=Decimal(400)))
            for _ in range(100):
                start = rng.uniform(360, 1300)
                s.add(MachineDowntime(machine_id=rng.choice(machines).id, starts_at=at(day, start),
                                      ends_at=at(day, start + rng.uniform(5, 120)), reason_id=rng.choice(stop_reasons)))
            plan = ScheduleVersion(status=ScheduleStatus.PUBLISHED, origin=at(day, 0), time_limit_s=10, workers=1,
                                   published_at=at(day, -120))
            s.add(plan)
            s.flush()
            for n, op in enumerate(ops):
                start = 360 + (n // args.machines) * 240
                s.add(ScheduledOperation(schedule_id=plan.id, operation_id=op.id, machine_id=op.machine_id,
                                         setup_start_at=at(day, start), start_at=at(day, start), end_at=at(day, start + 240)))
        print(f"seeded {args.machines} machines, {args.reports} reports on {day}, 1,000 a day for the week before "
              f"and today, in {time.perf_counter() - started:.1f} s")

        def timed(fn, repeat: int) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
            times, result = [], None
            for _ in range(repeat):
                session().rollback()
                t0 = time.perf_counter()
                result = fn()
                times.append(time.perf_counter() - t0)
            return statistics.median(times), max(times), result

        def figures():  # type: ignore[no-untyped-def]
            s = session()
            return daily.daily_sheet(s, daily.window(s, day), "zh_CN", with_labour=True, plant="Bench")

        med, worst, sheet = timed(figures, args.repeat)
        print(f"sheet figures           median {med * 1000:7.0f} ms   max {worst * 1000:7.0f} ms")
        pdf_med, pdf_worst, pdf = timed(lambda: sheet_pdf.render(sheet, "zh_CN"), args.repeat)  # type: ignore[arg-type]
        print(f"sheet PDF drawing       median {pdf_med * 1000:7.0f} ms   max {pdf_worst * 1000:7.0f} ms   "
              f"({len(pdf) // 1024} KB, {len(PAGE.findall(pdf))} pages)")  # type: ignore[arg-type]
        if args.out:
            with open(args.out, "wb") as fh:
                fh.write(pdf)  # type: ignore[arg-type]
        total_med, total_worst, _ = timed(lambda: sheet_pdf.render(figures(), "zh_CN"), args.repeat)
        verdict = "meets" if total_med < 2 else "MISSES"
        print(f"sheet total (figures + PDF) median {total_med * 1000:5.0f} ms   max {total_worst * 1000:7.0f} ms   "
              f"{verdict} the 2 s target")
        csv_med, _w, _r = timed(lambda: exports.write_csv(exports.sections(sheet, "zh_CN")), args.repeat)  # type: ignore[arg-type]
        xlsx_med, _w, _r = timed(lambda: exports.write_xlsx(exports.sections(sheet, "zh_CN"), "sheet"), args.repeat)  # type: ignore[arg-type]
        print(f"CSV / Excel files       median {csv_med * 1000:7.0f} ms / {xlsx_med * 1000:.0f} ms")
        dashboard_module._past.clear()
        cold, _w, _r = timed(lambda: dashboard(session()), 1)
        dash_med, dash_worst, _r = timed(lambda: dashboard(session()), args.repeat * 2)
        verdict = "meets" if dash_med < 0.2 else "MISSES"
        print(f"dashboard data, first   {cold * 1000:7.0f} ms   (every day computed; past days then kept "
              f"{dashboard_module.PAST_DAYS_TTL:.0f} s)")
        print(f"dashboard data, poll    median {dash_med * 1000:7.0f} ms   max {dash_worst * 1000:7.0f} ms   "
              f"{verdict} the 200 ms target")
        print(f"check: {sheet.totals.good} good, {sheet.totals.scrap} scrap on the day; "  # type: ignore[attr-defined]
              f"{len(sheet.oee_by_machine)} machines with OEE")  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
