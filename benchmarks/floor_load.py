"""Shop-floor load: 30 simulated tablets report pieces for 60 s against a live server (waitress,
as `mes run` serves it) on a temporary SQLite database (or MES_DATABASE_URL). Two tablets share
each operation; one tap in ten is sent twice with the same key (a double tap or a resend).
Each tablet waits ``--think`` seconds (jittered ±50 %) between taps: a worker keys a quantity in
and taps at most about once a second, so 30 tablets at 1 s is far more than a real shop sends;
``--think 0`` sends back to back and measures what the server can take (latency then only says
how long the queue of 30 is).
At the end every operation must have exactly the pieces of the reports the server accepted,
once each, and never more than the order quantity. Prints throughput and latency percentiles.

    .venv/bin/python benchmarks/floor_load.py --tablets 30 --seconds 60
    .venv/bin/python benchmarks/floor_load.py --tablets 30 --seconds 60 --think 0
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import random
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from decimal import Decimal

from sqlalchemy import func, select


def _post(url: str, token: str, key: str, body: dict) -> tuple[int, float]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Authorization": f"Bearer {token}", "Idempotency-Key": key, "Content-Type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tablets", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--quantity", type=int, default=400)
    parser.add_argument("--think", type=float, default=1.0, help="seconds between one tablet's taps")
    args = parser.parse_args()

    from waitress.server import create_server

    from mes.admin import services as admin
    from mes.app import create_app
    from mes.core import migrate
    from mes.core.db import session, transaction
    from mes.core.models import Role
    from mes.machines.models import Machine, WorkCenter
    from mes.operations.rules import OperationInput
    from mes.orders import services as orders
    from mes.orders.models import Operation, ProductionReport
    from mes.routing import services as routing
    from mes.routing.models import Product, ProductFamily
    from mes.shopfloor import services as floor

    folder = tempfile.mkdtemp()
    app = create_app({"INSTANCE_PATH": folder, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    pairs = (args.tablets + 1) // 2
    with app.app_context():
        migrate.upgrade(app)
        with transaction() as s:
            center = WorkCenter(code="WC", name="Cell")
            s.add(center)
            s.flush()
            s.add_all([Machine(code=f"M-{n:02d}", name=f"Machine {n}", work_center_id=center.id) for n in range(pairs)])
            family = ProductFamily(code="F", name="Parts")
            s.add(family)
            s.flush()
            s.add(Product(code="P", name="Part", family_id=family.id))
            s.flush()
            machines = list(s.scalars(select(Machine.id).order_by(Machine.id)))
            product_id, center_id = s.scalar(select(Product.id)), center.id
        rid = routing.create_version(product_id)
        routing.add_operation(rid, None, OperationInput(name="Make", work_center_id=center_id, run_minutes=Decimal(1)))
        routing.release(rid, None)
        tokens, ops = [], []
        for n in range(args.tablets):
            user_id = admin.create_user(admin.UserInput(username=f"w{n}", display_name=f"Worker {n}", roles=[Role.WORKER]))
            tokens.append((user_id, admin.create_token(user_id, "tablet")))
        for n in range(pairs):
            order_id = orders.create(orders.WorkOrderInput(product_id=product_id, quantity=args.quantity,
                                                           due_date=dt.date.today() + dt.timedelta(days=3)))
            orders.release(order_id, None)
            op_id = session().scalar(select(Operation.id).where(Operation.work_order_id == order_id))
            floor.start(tokens[2 * n][0], None, op_id, "run", machines[n])
            ops.append(op_id)

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # 30 clients on 8 threads queue by design
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.effective_port}/api/v1/floor/operations"
    latencies: list[float] = []
    accepted: dict[int, int] = {op: 0 for op in ops}
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds

    def tablet(n: int) -> None:
        rng = random.Random(n)
        _user, token = tokens[n]
        op = ops[n // 2]
        while time.monotonic() < deadline:
            key = uuid.uuid4().hex
            good = rng.randint(1, 3)
            sends = 2 if rng.random() < 0.1 else 1
            if args.think:
                time.sleep(args.think * rng.uniform(0.5, 1.5))
            first_accepted = False
            for _ in range(sends):
                status, seconds = _post(f"{base}/{op}/report", token, key, {"good": good})
                with lock:
                    latencies.append(seconds)
                    statuses[status] = statuses.get(status, 0) + 1
                    if status == 201 and not first_accepted:
                        accepted[op] += good
                        first_accepted = True

    workers = [threading.Thread(target=tablet, args=(n,)) for n in range(args.tablets)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    logging.getLogger("waitress").setLevel(logging.CRITICAL)  # idle keep-alive channels closing with the server
    server.close()

    with app.app_context():
        session().rollback()
        lost_or_doubled = 0
        for op_id in ops:
            op = session().get(Operation, op_id)
            reported = session().scalar(select(func.coalesce(func.sum(ProductionReport.good_qty), 0))
                                        .where(ProductionReport.operation_id == op_id))
            if not (op.qty_good == reported == accepted[op_id] <= args.quantity):
                lost_or_doubled += 1
                print(f"operation {op_id}: total {op.qty_good}, reports {reported}, accepted {accepted[op_id]}")
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1] if latencies else 0.0
    print(f"{args.tablets} tablets (a tap every {args.think:g} s), {elapsed:.1f} s, {len(latencies)} requests ({len(latencies) / elapsed:.1f}/s), "
          f"statuses {dict(sorted(statuses.items()))}")
    print(f"latency median {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms")
    print("nothing lost or doubled" if lost_or_doubled == 0 else f"{lost_or_doubled} operations lost or doubled pieces")
    app.extensions["mes.db"].dispose()
    raise SystemExit(1 if lost_or_doubled else 0)


if __name__ == "__main__":
    main()
