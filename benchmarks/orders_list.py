"""Work order list speed with a few thousand orders: seeds the demo plant plus N more orders into a
temporary SQLite database (or MES_DATABASE_URL) and times the list and detail pages.

    .venv/bin/python benchmarks/orders_list.py --orders 2000
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time

from sqlalchemy import select


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    from mes import demo
    from mes.app import create_app
    from mes.core import migrate
    from mes.core.db import session, transaction
    from mes.orders import services as orders
    from mes.orders.models import Priority, WorkOrder
    from mes.routing.models import Product

    folder = tempfile.mkdtemp()
    app = create_app({"INSTANCE_PATH": folder, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        migrate.upgrade(app)
        demo.seed()
        products = session().scalars(select(Product.id)).all()
        rng = random.Random(1)
        started = time.perf_counter()
        with transaction() as s:
            for n in range(args.orders):
                order_id = orders.create_in(s, orders.WorkOrderInput(
                    product_id=rng.choice(products), quantity=rng.randint(1, 200),
                    due_date=dt.date.today() + dt.timedelta(days=rng.randint(-20, 60)), number=f"B-{n:05d}",
                    priority=rng.choice(list(Priority)), customer=f"Customer {n % 37}"))
                if n % 2:
                    orders.release_in(s, order_id)
        print(f"seeded {args.orders} extra orders (half released) in {time.perf_counter() - started:.1f} s")
        total = session().scalar(select(WorkOrder.id).order_by(WorkOrder.id.desc()).limit(1))
        sample = session().scalar(select(WorkOrder.id).where(WorkOrder.number == f"B-{min(101, args.orders - 1):05d}"))

    client = app.test_client()
    client.post("/login", data={"username": "planner", "password": demo.DEMO_PASSWORD})
    cases = {
        "list, first page (open orders)": "/orders/",
        "list, all statuses, page 20": "/orders/?status=&page=20",
        "list, search 'customer 1'": "/orders/?q=customer+1",
        "list, late only, by priority": "/orders/?late=1&sort=priority",
        "list, htmx fragment": "/orders/?status=released&status=in_progress",
        "work order detail": f"/orders/{sample}",
    }
    print(f"{total} work orders in the database; median and 95th percentile of {args.repeat} requests")
    for name, url in cases.items():
        times = []
        headers = {"HX-Request": "true"} if "fragment" in name else {}
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            r = client.get(url, headers=headers)
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, (url, r.status_code)
        times.sort()
        print(f"  {name:34s} {statistics.median(times):7.1f} ms   p95 {times[int(len(times) * 0.95) - 1]:7.1f} ms")


if __name__ == "__main__":
    main()
