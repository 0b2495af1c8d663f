"""Realistic shop benchmark: a generated high-mix job shop with calendars and setups.

Reports, for mes.scheduling.engine.generator.shop_problem (200 orders, about 1,000 operations,
25 machines in 9 work centers, shifts and weekends, 8 setup families, assemblies):

- time to the first feasible plan, and the dispatch heuristic's weighted tardiness;
- weighted tardiness after the time limit (30 s), phase, checker verdict, peak memory;
- PyJobShop 0.0.9 (OR-Tools) on the same instance, same limit and workers, if it finds a plan;
- re-scheduling: the busiest machine breaks down for 8 hours at minute 0; time to the new
  plan, its weighted tardiness, and the share of operations not on that machine that
  changed machine.

Each measurement runs in its own process (one after the other) so peak memory is its own.

    python benchmarks/shop.py                    # 30 s, 2 workers, PyJobShop included
    python benchmarks/shop.py --no-peer --orders 100 --time-limit 10
    python benchmarks/shop.py --no-peer --no-reschedule --orders 360 --shop-load 1.0 --reference 600   # 30 s against 10 min
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mes.scheduling.engine.checker import check  # noqa: E402
from mes.scheduling.engine.generator import breakdown_scenario, busiest_machine, shop_problem  # noqa: E402
from mes.scheduling.engine.heuristic import default_rules, dispatch  # noqa: E402
from mes.scheduling.engine.instance import Instance  # noqa: E402
from mes.scheduling.engine.jsonformat import result_to_dict  # noqa: E402
from mes.scheduling.engine.plan import evaluate  # noqa: E402
from mes.scheduling.engine.problem import (  # noqa: E402
    Phase,
    Result,
    ScheduledTask,
    SolveStatus,
    Term,
)
from mes.scheduling.engine.solver import solve  # noqa: E402

WT = Term.WEIGHTED_TARDINESS


def cpu_seconds() -> float:
    """CPU time of this process and of the child processes it has waited for (the engine's
    priority search runs in one)."""
    return sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_peak_mib() -> float:
    """Resident peak of the largest child process waited for (0 without one)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def ours(args: argparse.Namespace) -> dict:
    problem = shop_problem(args.orders, args.seed, load=args.shop_load)
    started = time.monotonic()
    instance = Instance(problem)
    heuristic = None
    for rule in default_rules(instance):
        plan = dispatch(instance, rule)
        values = evaluate(instance, plan)
        if heuristic is None or values[WT] < heuristic:
            heuristic = values[WT]
    heuristic_seconds = time.monotonic() - started

    reports: list[tuple[float, str, tuple]] = []
    # Resident peak from the kernel; tracemalloc would slow the pure-Python parts severalfold.
    cpu, wall = cpu_seconds(), time.monotonic()
    result = solve(problem, time_limit=args.time_limit, workers=args.workers, seed=args.solver_seed,
                   progress=lambda p: reports.append((p.seconds, str(p.phase), p.objective)))
    cores = (cpu_seconds() - cpu) / (time.monotonic() - wall)
    errors = check(problem, result)
    if args.save:
        Path(args.save).write_text(json.dumps(result_to_dict(result)))
    return {
        "operations": len(problem.operations), "jobs": len(problem.jobs), "machines": len(problem.machines),
        "work_centers": len({m.work_center for m in problem.machines}),
        "first_plan_seconds": reports[0][0] if reports else None,
        "heuristic_wt": heuristic, "heuristic_seconds": heuristic_seconds,
        "wt": result.objective[WT], "makespan": result.objective[Term.MAKESPAN],
        "setup": result.objective[Term.SETUP_TIME], "phase": str(result.phase), "seconds": result.seconds,
        "feasible": not errors, "errors": errors[:3], "peak_mib": peak_mib(), "child_peak_mib": child_peak_mib(),
        "cores": cores,
        "trace": [(round(t, 2), phase, list(obj)) for t, phase, obj in reports[:: max(1, len(reports) // 12)]],
        "curve": {t: best_at(reports, t) for t in CHECKPOINTS if t <= args.time_limit},
    }


# Seconds at which the reference run's best weighted tardiness so far is printed.
CHECKPOINTS = (1, 10, 30, 60, 120, 300, 600, 1200)


def best_at(reports: list[tuple[float, str, tuple]], seconds: float) -> int | None:
    """The first objective level of the last plan reported by ``seconds`` (None before any)."""
    values = [obj[0] for t, _, obj in reports if t <= seconds and obj]
    return values[-1] if values else None


def rescheduling(args: argparse.Namespace) -> dict:
    problem = shop_problem(args.orders, args.seed, load=args.shop_load)
    saved = json.loads(Path(args.load).read_text())
    base = Result(SolveStatus.FEASIBLE, Phase.LNS, tuple(
        ScheduledTask(o["operation"], o["job"], o["machine"], o["start"], o["end"], o["setup"]) for o in saved["operations"]
    ), {}, (), None, 0.0)
    machine = busiest_machine(base, 480)
    scenario = breakdown_scenario(problem, base, machine, start=0, minutes=480)
    reports: list[tuple[float, str]] = []
    started = time.monotonic()
    result = solve(scenario, time_limit=args.time_limit, workers=args.workers,
                   progress=lambda p: reports.append((p.seconds, str(p.phase))))
    wall = time.monotonic() - started
    before = {s.operation: s.machine for s in base.operations}
    others = [s for s in result.operations if before[s.operation] != machine]
    changed = sum(1 for s in others if s.machine != before[s.operation])
    return {
        "machine": machine, "first_plan_seconds": reports[0][0] if reports else None, "seconds": wall,
        "wt_before": saved["objective"][WT], "wt": result.objective[WT], "phase": str(result.phase),
        "changed": changed, "others": len(others), "share": changed / max(1, len(others)),
        "feasible": not check(scenario, result), "peak_mib": peak_mib(),
    }


def peer(args: argparse.Namespace) -> dict:
    """PyJobShop on the same shop: machines with breaks, resumable tasks allowed to span
    them, setup times between every pair of tasks of different families."""
    from pyjobshop import Model

    problem = shop_problem(args.orders, args.seed, load=args.shop_load)
    started = time.monotonic()
    model = Model()
    machines = {}
    for m in problem.machines:
        machines[m.key] = model.add_machine(breaks=[(w.start, w.end) for w in m.windows], name=m.key)
    jobs = {}
    for j in problem.jobs:
        jobs[j.key] = model.add_job(weight=j.weight, release_date=j.release, due_date=j.due, name=j.key)
    family = {j.key: j.family for j in problem.jobs}
    tasks = {}
    for op in problem.operations:
        task = model.add_task(job=jobs[op.job], allow_breaks=op.resumable, name=op.key)
        tasks[op.key] = task
        for key, minutes in op.durations.items():
            model.add_mode(task, machines[key], minutes)
    for p in problem.precedences:
        a, b = tasks[p.before], tasks[p.after]
        if p.finish_to_start is not None:
            model.add_end_before_start(a, b, p.finish_to_start)
        if p.start_to_start is not None:
            model.add_start_before_start(a, b, p.start_to_start)
        if p.end_to_end is not None:
            model.add_end_before_end(a, b, p.end_to_end)
    for m in problem.machines:
        eligible = [op for op in problem.operations if m.key in op.durations]
        for a in eligible:
            for b in eligible:
                if a is not b:
                    minutes = m.setups.minutes(family[a.job], family[b.job])
                    if minutes:
                        model.add_setup_time(machines[m.key], tasks[a.key], tasks[b.key], minutes)
    model.set_objective(weight_total_tardiness=1)
    build = time.monotonic() - started
    result = model.solve(solver="ortools", time_limit=args.time_limit, num_workers=args.workers, display=False)
    found = bool(result.best.tasks) and all(t.present for t in result.best.tasks)
    wt = None
    if found:
        wt = sum(job.weight * max(0, max(result.best.tasks[i].end for i, op in enumerate(problem.operations) if op.job == job.key) - job.due)
                 for job in problem.jobs)
    return {"status": str(result.status), "found": found, "wt": wt, "build_seconds": build,
            "seconds": time.monotonic() - started, "peak_mib": peak_mib()}


def run(mode: str, args: argparse.Namespace, extra: list[str]) -> dict:
    command = [sys.executable, __file__, "--mode", mode, "--orders", str(args.orders), "--seed", str(args.seed),
               "--workers", str(args.workers), "--solver-seed", str(args.solver_seed)] + extra
    if args.shop_load is not None:
        command += ["--shop-load", str(args.shop_load)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--shop-load", type=float, help="stretch releases and due dates to this load (see shop_problem)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--reschedule-limit", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--solver-seed", type=int, default=0, help="the engine's random seed")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--no-reschedule", action="store_true")
    parser.add_argument("--reference", type=float,
                        help="also run the engine this many seconds and compare the plans (e.g. 600)")
    parser.add_argument("--mode", choices=["ours", "peer", "reschedule"], help=argparse.SUPPRESS)
    parser.add_argument("--save", help=argparse.SUPPRESS)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        work = {"ours": ours, "peer": peer, "reschedule": rescheduling}[args.mode]
        print(json.dumps(work(args)))
        return

    # The priority search's dispatch kernel is compiled on first use after an install, then
    # loaded from its cache: compile it before the first timed run (in its own process, so
    # that the compiler's memory does not count in this one's peak).
    subprocess.run([sys.executable, "-c", "from mes.scheduling.engine import sequence_search as s; s.warm_up()"],
                   check=True, cwd=ROOT)
    with tempfile.TemporaryDirectory() as folder:
        plan = str(Path(folder) / "plan.json")
        a = run("ours", args, ["--time-limit", str(args.time_limit), "--save", plan])
        load = f", load {args.shop_load:g}" if args.shop_load is not None else ""
        print(f"# shop: {args.orders} orders (seed {args.seed}{load}), {args.time_limit:g} s, {args.workers} workers, engine seed {args.solver_seed}")
        if "error" in a:
            print("mes failed:", a["error"])
            return
        print(f"instance: {a['jobs']} orders, {a['operations']} operations, {a['machines']} machines in {a['work_centers']} work centers")
        print(f"first feasible plan: {a['first_plan_seconds']:.2f} s")
        print(f"dispatch heuristic (best of {len(default_rules(Instance(shop_problem(args.orders, args.seed, load=args.shop_load))))} rules): "
              f"weighted tardiness {a['heuristic_wt']} ({a['heuristic_seconds']:.2f} s)")
        reduction = 100.0 * (1 - a["wt"] / a["heuristic_wt"]) if a["heuristic_wt"] else 0.0
        print(f"mes after {a['seconds']:.1f} s: weighted tardiness {a['wt']} ({reduction:.1f} % below the heuristic), "
              f"makespan {a['makespan']}, setup minutes {a['setup']}, phase {a['phase']}, "
              f"feasible (checker): {'yes' if a['feasible'] else 'NO ' + str(a['errors'])}")
        print(f"peak memory: {a['peak_mib']:.0f} MiB resident (whole process, getrusage), "
              f"{a.get('child_peak_mib', 0):.0f} MiB in the priority search's process; "
              f"cores busy {a['cores']:.2f} of {args.workers} (CPU time of both processes / wall time)")
        print("progress (s, phase, levels):", a["trace"])
        if not args.no_peer:
            b = run("peer", args, ["--time-limit", str(args.time_limit)])
            if "error" in b:
                print("PyJobShop failed:", b["error"])
            else:
                verdict = f"weighted tardiness {b['wt']}" if b["found"] else "no feasible plan"
                print(f"PyJobShop 0.0.9: {verdict} (status {b['status']}, model built in {b['build_seconds']:.1f} s, "
                      f"{b['seconds']:.1f} s in all, peak {b['peak_mib']:.0f} MiB)")
        if args.reference:
            r = run("ours", args, ["--time-limit", str(args.reference)])
            if "error" in r:
                print("reference run failed:", r["error"])
            else:
                gap = 100.0 * (a["wt"] - r["wt"]) / r["wt"] if r["wt"] else 0.0
                print(f"reference {r['seconds']:.0f} s: weighted tardiness {r['wt']}, makespan {r['makespan']}, "
                      f"feasible (checker): {'yes' if r['feasible'] else 'NO'}, cores busy {r['cores']:.2f}, "
                      f"peak {r['peak_mib']:.0f} + {r.get('child_peak_mib', 0):.0f} MiB; the {args.time_limit:g} s plan is {gap:.1f} % above it")
                curve = ", ".join(f"{t} s {v}" for t, v in r["curve"].items() if v is not None)
                print(f"reference run, weighted tardiness by time: {curve}")
        if args.no_reschedule:
            return
        c = run("reschedule", args, ["--time-limit", str(args.reschedule_limit), "--load", plan])
        if "error" in c:
            print("re-scheduling failed:", c["error"])
            return
        print(f"re-scheduling ({c['machine']} down 0-480): first new plan {c['first_plan_seconds']:.2f} s, "
              f"finished in {c['seconds']:.1f} s; weighted tardiness {c['wt_before']} -> {c['wt']}; "
              f"{c['changed']}/{c['others']} = {100 * c['share']:.1f} % of the other operations changed machine; "
              f"feasible (checker): {'yes' if c['feasible'] else 'NO'}; peak {c['peak_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
