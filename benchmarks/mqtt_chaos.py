"""Nothing lost, nothing counted twice: 20,000 QoS 1 count messages while the broker is stopped
and restarted three times and the worker is killed (SIGKILL) three times. Prints the totals the
gateways published and the totals in the database.

    python benchmarks/mqtt_chaos.py
    python benchmarks/mqtt_chaos.py --messages 50000 --database postgresql://postgres@127.0.0.1:5432/postgres

The broker is stopped with SIGTERM (it writes its persistence file, as a service stop or a
reboot does); a broker killed with SIGKILL loses what it acknowledged since its last autosave,
which no client can make up for. The worker is killed with SIGKILL: whatever it had received but
not committed was not acknowledged, so the broker sends it again.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--machines", type=int, default=10)
    parser.add_argument("--rate", type=int, default=1000, help="messages per second published")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mes-mqtt-chaos-"))
    broker = Mosquitto(folder / "broker")
    broker.start()
    url, cleanup = database(args.database, folder)
    codes = seed_machines(url, args.machines)
    worker = WorkerProcess(url, broker.url, folder, "chaos-worker")
    events: list[str] = []
    try:
        worker.start()
        worker.wait_subscribed()
        pub = Publisher(broker.port)
        base_ms = int(time.time() * 1000) - 10 * 24 * 3600 * 1000
        for code in codes:
            pub.send(f"mes/chaos/{code}/count", {"ts": base_ms, "good": 0, "scrap": 0})
        published = {code: 0 for code in codes}
        done = threading.Event()

        def produce() -> None:
            for i in range(args.messages):
                code = codes[i % len(codes)]
                published[code] += 1
                n = published[code]
                pub.send(f"mes/chaos/{code}/count", {"ts": base_ms + n * 100, "good": n, "scrap": 0})
                if i % 100 == 99:
                    time.sleep(100 / args.rate)
            done.set()

        start = time.monotonic()
        producer = threading.Thread(target=produce)
        producer.start()
        step = args.messages / args.rate / 7
        for round_ in range(3):
            time.sleep(step)
            worker.kill()
            events.append(f"{time.monotonic() - start:5.1f} s worker SIGKILL")
            time.sleep(0.5)
            worker.start()
            time.sleep(step)
            broker.stop()
            events.append(f"{time.monotonic() - start:5.1f} s broker stopped")
            time.sleep(1.0)
            broker.start()
            events.append(f"{time.monotonic() - start:5.1f} s broker restarted")
        producer.join()
        pub.wait_all(600)
        expected = args.messages
        deadline = time.monotonic() + 300
        while totals(url)[1] < expected and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # let any redelivery land: it must change nothing
        readings, good = totals(url)
        for line in events:
            print(line)
        print(f"published: {expected} messages, {expected} pieces over {len(codes)} machines "
              f"in {time.monotonic() - start:.1f} s")
        print(f"database: {readings - len(codes)} readings, {good} pieces -> "
              f"{'OK: nothing lost, nothing counted twice' if good == expected and readings - len(codes) == expected else 'MISMATCH'}")
        print("(figures taken on a shared, loaded machine)")
        pub.close()
    finally:
        worker.stop()
        broker.stop()
        if cleanup:
            cleanup()


if __name__ == "__main__":
    main()
