"""How the large-shop plan at the time limit scales with the planner's cores (workers).

On large due-date shops the engine runs one priority search per worker, each in a process
of its own with seed ``engine seed + 7919 k`` (k = 0 .. workers - 1), all starting from the
best dispatch rule's plan and taking no plans from each other; the plan kept is the best of
theirs. So the plan of a PC with k cores is the best of the first k of these searches, each
given a core for the whole time limit. This script runs exactly those searches (the
engine's own child processes, ``priority_search.run_in_process``), ``--jobs`` at a time so
that each has a core of this machine, and prints the best of the first 2, 4 and 8.

    python benchmarks/workers.py --orders 360 --shop-load 1.0 --seeds 1 2 3 --workers 8
    python benchmarks/workers.py --orders 360 --shop-load 1.0 --seeds 1 2 3 --workers 8 --solver-seed 1

One draw of k searches says little on these shops (a single search's 30 s result spreads by
about 5 %), so with several engine seeds (``--solver-seed 0 1``) the script also prints,
over all the searches it ran on a shop, the expected best of k of them drawn at random:
what a planner gets on average from the engine with k workers, whatever its seed. With
``--reference`` (one weighted tardiness per shop, such as the mean of its 10-minute runs)
it prints that expectation's distance above it.
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mes.scheduling.engine import child, priority_search, solver  # noqa: E402
from mes.scheduling.engine.checker import check  # noqa: E402
from mes.scheduling.engine.generator import shop_problem  # noqa: E402
from mes.scheduling.engine.instance import Instance  # noqa: E402
from mes.scheduling.engine.plan import Plan, score  # noqa: E402
from mes.scheduling.engine.problem import Phase  # noqa: E402


def searches(orders: int, shop_seed: int, load: float | None, solver_seed: int, workers: int, seconds: float,
             jobs: int) -> list[int]:
    """The weighted tardiness of the best plan of each of the ``workers`` searches."""
    problem = shop_problem(orders, shop_seed, load=load)
    instance = Instance(problem)
    started = time.monotonic()
    incumbent = solver._Incumbent(instance, started, None)
    rules = solver._initial_plans(instance, incumbent)  # the engine's start: every rule, best first
    spent = time.monotonic() - started
    best: list[tuple[int, ...]] = [score(instance, incumbent.plan)] * workers
    plans: list[Plan] = [incumbent.plan] * workers
    lock = threading.Lock()

    def run(k: int) -> None:
        def found(plan: Plan) -> None:
            with lock:
                value = score(instance, plan)
                if value < best[k]:
                    best[k], plans[k] = value, plan

        priority_search.run_in_process(problem, rules, time.monotonic() + seconds - spent, solver_seed + 7919 * k,
                                       found, lambda: False, start=incumbent.plan, patience=priority_search.PATIENCE)

    for first in range(0, workers, jobs):
        threads = [threading.Thread(target=run, args=(k,)) for k in range(first, min(workers, first + jobs))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for plan in plans:
        result = solver.plan_result(instance, plan, Phase.PRIORITY_SEARCH)
        problems = check(problem, result)
        if problems:
            raise SystemExit(f"infeasible plan: {problems[:3]}")
    return [value[0] for value in best]


def expected_best(values: list[int], k: int) -> float:
    """The mean of min(sample) over all k-subsets of ``values``: the i-th smallest of n is
    the minimum of C(n - 1 - i, k - 1) of the C(n, k) subsets (i counted from 0)."""
    ordered = sorted(values)
    n = len(ordered)
    return sum(v * math.comb(n - 1 - i, k - 1) for i, v in enumerate(ordered)) / math.comb(n, k)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=360)
    parser.add_argument("--shop-load", type=float, default=1.0, help="see generator.shop_problem")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="generated shops")
    parser.add_argument("--solver-seed", type=int, nargs="+", default=[0], help="the engine's seeds")
    parser.add_argument("--reference", type=int, nargs="+", help="a weighted tardiness per shop to compare with")
    parser.add_argument("--workers", type=int, default=8, help="the most workers to report")
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--jobs", type=int, default=2, help="searches run at a time (one per core of this machine)")
    args = parser.parse_args()
    child.compile_kernels_in_background().wait()  # the searches must not wait for the compiler
    # One worker is not one of these searches: the engine then runs the search in its own process
    # and LNS after it.
    counts = [k for k in (2, 4, 8, 16, 32) if k <= args.workers]
    if args.reference and len(args.reference) != len(args.seeds):
        parser.error("--reference takes one value per shop (--seeds)")
    pooled: dict[int, list[int]] = {seed: [] for seed in args.seeds}
    for solver_seed in args.solver_seed:
        print(f"# {args.orders} orders (load {args.shop_load:g}), {args.time_limit:g} s, engine seed {solver_seed}: "
              f"weighted tardiness of the best of the first k searches, every plan checker-feasible")
        print("| shop | " + " | ".join(f"{k} workers" for k in counts) + " | each search |")
        print("| --- | " + " | ".join("---" for _ in counts) + " | --- |")
        for seed in args.seeds:
            values = searches(args.orders, seed, args.shop_load, solver_seed, args.workers, args.time_limit, args.jobs)
            pooled[seed] += values
            cells = [f"{min(values[:k]):,}" for k in counts]
            print(f"| {seed} | " + " | ".join(cells) + " | " + " / ".join(f"{v:,}" for v in values) + " |", flush=True)
    if len(args.solver_seed) < 2 and not args.reference:
        return
    print(f"# expected best of k of the {len(pooled[args.seeds[0]])} searches on each shop (all engine seeds)"
          + (", above the reference" if args.reference else ""))
    print("| shop | " + " | ".join(f"{k} workers" for k in counts) + " |")
    print("| --- | " + " | ".join("---" for _ in counts) + " |")
    above: dict[int, list[float]] = {k: [] for k in counts}
    for index, seed in enumerate(args.seeds):
        cells = []
        for k in counts:
            expected = expected_best(pooled[seed], k)
            cell = f"{expected:,.0f}"
            if args.reference:
                above[k].append(expected / args.reference[index] - 1)
                cell += f" ({100 * above[k][-1]:.1f} %)"
            cells.append(cell)
        print(f"| {seed} | " + " | ".join(cells) + " |")
    if args.reference:
        print("| mean above | " + " | ".join(f"{100 * sum(above[k]) / len(above[k]):.1f} %" for k in counts) + " |")


if __name__ == "__main__":
    main()
