"""MQTT ingestion throughput: QoS 1 count messages through a real Mosquitto into the database by
`mes mqtt` worker processes. Prints messages per second and the lag (how long after the last
message was published the database had them all).

    python benchmarks/mqtt_ingest.py                          # SQLite, one worker, 20,000 messages
    python benchmarks/mqtt_ingest.py --messages 50000 --machines 20
    python benchmarks/mqtt_ingest.py --database postgresql://postgres@127.0.0.1:5432/postgres --workers 2

Two phases: *live* (the worker takes messages while they are published: the lag is what matters)
and *backlog* (the messages wait in the broker for the worker's persistent session, then one or
more workers drain them: the pure ingestion rate). With --workers 2 the workers share the topics
through an MQTT 5 shared subscription.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._mqtt import (
    Mosquitto,
    Publisher,
    WorkerProcess,
    database,
    seed_machines,
    totals,
)


def publish(pub: Publisher, codes: list[str], messages: int, offset: int, base_ms: int) -> None:
    for i in range(messages):
        code = codes[i % len(codes)]
        n = offset + i // len(codes) + 1
        pub.send(f"mes/bench/{code}/count", {"ts": base_ms + n * 100, "good": n, "scrap": 0})


def wait_for(url: str, readings: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while totals(url)[0] < readings:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {totals(url)[0]} of {readings} readings after {timeout} s")
        time.sleep(0.05)
    return time.monotonic()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="sqlite", help="sqlite, or a PostgreSQL server URL")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--machines", type=int, default=10)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mes-mqtt-bench-"))
    broker = Mosquitto(folder / "broker")
    broker.start()
    url, cleanup = database(args.database, folder)
    codes = seed_machines(url, args.machines)
    group = "mes" if args.workers > 1 else None
    workers = [WorkerProcess(url, broker.url, folder, f"bench-{i}", group) for i in range(args.workers)]
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.wait_subscribed()
        base_ms = int(time.time() * 1000) - 10 * 24 * 3600 * 1000
        pub = Publisher(broker.port)
        # Baselines first (a machine's first reading counts nothing).
        publish(pub, codes, len(codes), -1, base_ms)
        pub.wait_all()
        wait_for(url, len(codes), 60)
        # Live.
        start = time.monotonic()
        publish(pub, codes, args.messages, 0, base_ms)
        pub.wait_all()
        published = time.monotonic()
        done = wait_for(url, len(codes) + args.messages, 600)
        live_rate = args.messages / (done - start)
        print(f"live: {args.messages} messages published in {published - start:.1f} s "
              f"({args.messages / (published - start):.0f}/s); all in the database after {done - start:.1f} s "
              f"= {live_rate:.0f} msgs/s; lag after the last publish {done - published:.2f} s")
        # Backlog: workers away, messages queue in their sessions, then they drain.
        for w in workers:
            w.stop()
        publish(pub, codes, args.messages, args.messages // len(codes), base_ms)
        pub.wait_all()
        start = time.monotonic()
        for w in workers:
            w.start()
        done = wait_for(url, len(codes) + 2 * args.messages, 600)
        print(f"backlog: {args.messages} queued messages drained in {done - start:.1f} s "
              f"= {args.messages / (done - start):.0f} msgs/s (including the workers' start)")
        readings, good = totals(url)
        expected = 2 * args.messages
        print(f"database: {readings} readings, {good} pieces counted, {expected} published -> "
              f"{'OK' if good == expected else 'MISMATCH'}")
        print(f"({args.database.split('://')[0]}, {args.workers} worker(s), {args.machines} machines; "
              f"figures taken on a shared, loaded machine)")
        pub.close()
    finally:
        for w in workers:
            w.stop()
        broker.stop()
        if cleanup:
            cleanup()


if __name__ == "__main__":
    main()
