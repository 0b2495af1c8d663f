"""Quality pages with a year of inspections: seeds the demo plant, gives one routing operation a
measured characteristic with N results spread over the demo's orders, and times the control
chart, the Pareto pages, the alerts and an order's inspection report PDF.

    .venv/bin/python benchmarks/quality_pages.py --results 5000
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from decimal import Decimal

from sqlalchemy import select


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    from mes import demo
    from mes.app import create_app
    from mes.core import migrate
    from mes.core.db import transaction
    from mes.operations.models import Frequency
    from mes.orders.models import Operation, OperationCharacteristic
    from mes.quality.models import InspectionResult
    from mes.routing.models import RoutingCharacteristic

    folder = tempfile.mkdtemp()
    app = create_app({"INSTANCE_PATH": folder, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        migrate.upgrade(app)
        demo.seed()
        rng = random.Random(3)
        started = time.perf_counter()
        with transaction() as s:
            ops = s.scalars(select(Operation).where(Operation.source_operation_id.is_not(None)).order_by(Operation.id)).all()
            source_op = ops[0].source_operation_id
            same = [op for op in ops if op.source_operation_id == source_op]
            rc = RoutingCharacteristic(operation_id=source_op, seq=1, name="Diameter", nominal=Decimal(20),
                                       lower_limit=Decimal("19.9"), upper_limit=Decimal("20.1"), unit="mm",
                                       frequency=Frequency.EVERY_N, every_n=5)
            s.add(rc)
            s.flush()
            chars = []
            for op in same:
                oc = OperationCharacteristic(operation_id=op.id, seq=1, name="Diameter", nominal=Decimal(20),
                                             lower_limit=Decimal("19.9"), upper_limit=Decimal("20.1"), unit="mm",
                                             frequency=Frequency.EVERY_N, every_n=5, source_characteristic_id=rc.id)
                s.add(oc)
                chars.append((op, oc))
            s.flush()
            start = dt.datetime.now(dt.UTC) - dt.timedelta(days=365)
            for n in range(args.results):
                op, oc = chars[n % len(chars)]
                value = Decimal(str(round(rng.gauss(20.0, 0.03), 4)))
                s.add(InspectionResult(operation_id=op.id, work_order_id=op.work_order_id, characteristic_id=oc.id,
                                       frequency=Frequency.EVERY_N, sample_no=n // len(chars) + 1, pieces=n, value=value,
                                       passed=Decimal("19.9") <= value <= Decimal("20.1"),
                                       recorded_at=start + dt.timedelta(minutes=105 * n)))
            char_id, order_id = rc.id, same[0].work_order_id
        print(f"seeded {args.results} results over {len(chars)} orders in {time.perf_counter() - started:.1f} s")

    client = app.test_client()
    client.post("/login", data={"username": "quality", "password": demo.DEMO_PASSWORD})
    cases = {
        "control chart, individuals (250 points)": f"/quality/charts/{char_id}",
        "control chart, X-bar/R n=5": f"/quality/charts/{char_id}?subgroup=5",
        "Pareto, scrap by reason, 365 days": "/quality/analysis?kind=scrap&by=reason&days=365",
        "Pareto, defects by week, 365 days": "/quality/analysis?kind=defects&by=week&days=365",
        "alerts": "/quality/",
        "inspection report PDF of one order": f"/quality/orders/{order_id}/inspection-report.pdf",
    }
    for label, url in cases.items():
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        times.sort()
        p95 = times[max(0, round(0.95 * len(times)) - 1)]
        print(f"{label:45s} median {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms")


if __name__ == "__main__":
    main()
