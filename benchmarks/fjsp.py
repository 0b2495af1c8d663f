"""Flexible job shop benchmark: mes against PyJobShop (OR-Tools) on the public FJSPLIB sets.

Runs each instance through `python -m mes.scheduling.solve_cli` and through PyJobShop 0.0.9 with
the same time limit and worker count, one after the other (never at the same time), checks
both schedules with mes's independent checker, and prints makespans, gaps to the best-known
upper bound (shared/benchmarks/fjsp/bounds.csv) and seconds. The FJSPLIB files are read from
shared/benchmarks beside the repository folder, or from $MES_BENCHMARK_DATA (see _data.py).

    python benchmarks/fjsp.py                       # Brandimarte mk01-mk10, 10 s, 2 workers
    python benchmarks/fjsp.py --set edata --instances mt06,mt10,la16,la21,abz7
    python benchmarks/fjsp.py --no-peer --time-limit 30
    python benchmarks/fjsp.py --set edata --classic  # classic job shop: first listed machine only

With --classic every operation keeps only its first listed machine. For Hurink's edata files
that is the machine of the classic instance they were derived from (ft06, ft10, ft20, la16,
la21, la26, abz7, orb01), so the gaps are to the classic instances' best-known makespans.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._data import benchmark_data, missing  # noqa: E402
from mes.scheduling.engine import critical_path  # noqa: E402
from mes.scheduling.engine.checker import check  # noqa: E402
from mes.scheduling.engine.fjsplib import read_fjsplib  # noqa: E402
from mes.scheduling.engine.problem import Phase, Result, ScheduledTask, SolveStatus  # noqa: E402

DATA = benchmark_data("fjsp")
SETS = {
    "brandimarte": ("brandimarte", [f"mk{k:02d}" for k in range(1, 11)]),
    "edata": ("hurink/edata", ["mt06", "mt10", "mt20", "la16", "la21", "la26", "abz7", "orb1"]),
    "rdata": ("hurink/rdata", ["la01", "la06", "la11", "la16"]),
    "vdata": ("hurink/vdata", ["la01", "la06", "la11", "la16"]),
    "dauzere": ("dauzere", ["01a", "05a", "10a", "15a"]),
    "behnke": ("behnke", ["behnke6", "behnke11", "behnke16"]),
}


# Best-known makespans of the classic job shop instances (all proven optimal; Jain & Meeran
# 1999 survey, abz7 closed since); the edata files are these instances with extra machines.
CLASSIC = {"mt06": 55, "mt10": 930, "mt20": 1165, "la16": 945, "la21": 1046, "la26": 1218, "abz7": 656, "orb1": 1059}


def classic_text(path: Path) -> str:
    """The FJSPLIB file with each operation reduced to its first listed machine."""
    lines = [line.split() for line in path.read_text().splitlines() if line.split()]
    out = [" ".join(lines[0][:2]) + " 1"]
    for fields in lines[1:]:
        numbers = list(map(int, fields))
        ops, k, job = numbers[0], 1, [str(numbers[0])]
        for _ in range(ops):
            count = numbers[k]
            job += ["1", str(numbers[k + 1]), str(numbers[k + 2])]
            k += 1 + 2 * count
        out.append(" ".join(job))
    return "\n".join(out) + "\n"


def bounds() -> dict[str, tuple[int, int]]:
    with open(DATA / "bounds.csv") as f:
        return {row["file"]: (int(row["lower_bound"]), int(row["upper_bound"])) for row in csv.DictReader(f)}


def as_result(problem, operations: list[tuple[int, int, int, int, int]]) -> Result:
    """A Result from (job, op, machine, start, end) index tuples, for the checker."""
    by_job: dict[str, list] = {}
    for op in problem.operations:
        by_job.setdefault(op.job, []).append(op)
    jobs = [job.key for job in problem.jobs]
    scheduled = []
    for job, index, machine, start, end in operations:
        op = by_job[jobs[job]][index]
        scheduled.append(ScheduledTask(op.key, op.job, problem.machines[machine].key, start, end, 0))
    makespan = max((s.end for s in scheduled), default=0)
    return Result(SolveStatus.FEASIBLE, Phase.LNS, tuple(scheduled), {}, (makespan,), None, 0.0)


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_mes(path: Path, time_limit: float, workers: int, seed: int) -> dict:
    started, cpu = time.monotonic(), child_cpu()
    done = subprocess.run(
        [sys.executable, "-m", "mes.scheduling.solve_cli", str(path), "--time-limit", str(time_limit),
         "--workers", str(workers), "--seed", str(seed)],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )
    out = json.loads(done.stdout)
    ops = [(o["job"], o["op"], o["machine"], o["start"], o["end"]) for o in out["operations"]]
    seconds = time.monotonic() - started
    return {"makespan": out["makespan"], "seconds": seconds, "ops": ops, "cores": (child_cpu() - cpu) / seconds,
            "status": out["status"], "lower_bound": out["lower_bound"]}


def run_pyjobshop(path: Path, time_limit: float, workers: int, seed: int) -> dict:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, __file__, "--peer-worker", str(path), "--time-limit", str(time_limit), "--workers", str(workers),
         "--seed", str(seed)],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )
    out = json.loads(done.stdout)
    out["seconds"] = time.monotonic() - started
    return out


def peer_worker(path: Path, time_limit: float, workers: int, seed: int) -> None:
    """Runs inside a subprocess: PyJobShop on one instance, schedule as JSON on stdout."""
    from pyjobshop import read, solve

    problem = read_fjsplib(path)
    data = read(path)
    result = solve(data, solver="ortools", time_limit=time_limit, num_workers=workers, display=False, random_seed=seed)
    ops = []
    if result.best.tasks:
        counts = [sum(1 for op in problem.operations if op.job == job.key) for job in problem.jobs]
        index = 0
        for job, count in enumerate(counts):
            for op in range(count):
                task = result.best.tasks[index]
                ops.append((job, op, task.resources[0], task.start, task.end))
                index += 1
    makespan = max((o[4] for o in ops), default=None)
    print(json.dumps({"makespan": makespan, "ops": ops, "status": str(result.status)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default="brandimarte", choices=sorted(SETS))
    parser.add_argument("--instances", help="comma-separated file stems (default: the set's usual ones)")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="random seed of both solvers")
    parser.add_argument("--no-peer", action="store_true", help="skip PyJobShop")
    parser.add_argument("--classic", action="store_true", help="first listed machine only (classic job shop)")
    parser.add_argument("--peer-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer_worker:
        peer_worker(args.peer_worker, args.time_limit, args.workers, args.seed)
        return

    if not DATA.is_dir():
        parser.error(missing(DATA))
    folder, default = SETS[args.set]
    names = args.instances.split(",") if args.instances else default
    known = bounds()
    scratch = tempfile.TemporaryDirectory()
    # The tabu search's kernel is compiled on first use after an install (about 8 s), then
    # loaded from its cache: compile it before the first timed run.
    critical_path.warm_up()
    print(f"# {args.set}{' (classic job shop)' if args.classic else ''}: time limit {args.time_limit:g} s, {args.workers} workers, seed {args.seed}")
    header = f"{'instance':<10} {'LB':>5} {'UB':>5} | {'mes':>5} {'gap%':>6} {'s':>5} {'cpu':>4} {'ok':>3} | {'peer':>5} {'gap%':>6} {'s':>5} {'ok':>3} | mes<=peer"
    print(header)
    print("-" * len(header))
    gaps, peer_gaps, not_worse, cores = [], [], 0, []
    for name in names:
        path = DATA / folder / f"{name}.fjs"
        lb, ub = known[f"{folder}/{name}.fjs"]
        if args.classic:
            if name not in CLASSIC:
                parser.error(f"no classic best-known makespan for {name}")
            lb = ub = CLASSIC[name]
            path = Path(scratch.name) / f"{name}.fjs"
            path.write_text(classic_text(DATA / folder / f"{name}.fjs"))
        problem = read_fjsplib(path)
        ours = run_mes(path, args.time_limit, args.workers, args.seed)
        ours_ok = not check(problem, as_result(problem, ours["ops"]))
        gap = 100.0 * (ours["makespan"] - ub) / ub
        gaps.append(gap)
        cores.append(ours["cores"])
        line = f"{name:<10} {lb:>5} {ub:>5} | {ours['makespan']:>5} {gap:>6.2f} {ours['seconds']:>5.1f} {ours['cores']:>4.2f} {'yes' if ours_ok else 'NO':>3} |"
        if not args.no_peer:
            peer = run_pyjobshop(path, args.time_limit, args.workers, args.seed)
            if peer["makespan"] is None:
                line += f" {'-':>5} {'-':>6} {peer['seconds']:>5.1f} {'-':>3} | yes"
                not_worse += 1
            else:
                peer_ok = not check(problem, as_result(problem, peer["ops"]))
                peer_gap = 100.0 * (peer["makespan"] - ub) / ub
                peer_gaps.append(peer_gap)
                better = ours["makespan"] <= peer["makespan"]
                not_worse += better
                line += (f" {peer['makespan']:>5} {peer_gap:>6.2f} {peer['seconds']:>5.1f} {'yes' if peer_ok else 'NO':>3} |"
                         f" {'yes' if better else 'NO'}")
        print(line, flush=True)
    print("-" * len(header))
    summary = f"mean gap: mes {sum(gaps) / len(gaps):.2f} % (cores busy {sum(cores) / len(cores):.2f} of {args.workers})"
    if peer_gaps:
        summary += f", PyJobShop {sum(peer_gaps) / len(peer_gaps):.2f} %; mes no worse on {not_worse}/{len(names)}"
    print(summary)


if __name__ == "__main__":
    main()
