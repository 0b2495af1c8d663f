"""Tabu search on the critical path for plain flexible job shops (makespan, no calendars).

For the classic problem (makespan only, no calendars, setups, fixed work or pins, plain
finish-to-start precedence, positive durations) a plan is a machine and a position for
every operation, and its makespan is the longest path through the job and machine arcs.
Each step takes an operation on a critical path out of its machine and puts it back where
the estimated longest path through it is shortest: on any of its eligible machines, at any
position that cannot close a cycle (the moves of Mastrolilli and Gambardella's tabu search
for the flexible job shop, which cover both reassignment and the N5/N7 resequencing of
critical blocks). The estimate uses heads and tails of the current plan; the chosen move
is then timed exactly. A move back to where an operation came from is tabu for a few
steps, unless it beats the best plan; after 300 steps without a better plan the search
starts again from the best one with a few random moves (one walk in 67 goes on for
20,000 steps instead, so that short and long walks get half the steps each).

The search itself (``critical_path``) is a kernel compiled with Numba: hundreds of
thousands of steps in a 10 s solve, where one CP-SAT neighbourhood takes a tenth of a
second. One runs on one core beside CP-SAT on the whole model, then one on every core
(the solver's tabu portfolio), all sharing their best plans; each in a child process of
its own (``child_search``) where one can be started, so that none waits for another and
this process never loads the compiler.
"""

from __future__ import annotations

from mes.scheduling.engine.child import ChildSearch
from mes.scheduling.engine.instance import Instance
from mes.scheduling.engine.plan import Plan
from mes.scheduling.engine.problem import Problem, Term


def applies(instance: Instance) -> bool:
    """Whether the instance is a plain flexible job shop this search handles exactly."""
    inst = instance
    if [[term for term, _ in level] for level in inst.levels] != [[Term.MAKESPAN]]:
        return False
    if any(inst.machine_has_windows) or any(matrix is not None for matrix in inst.setup):
        return False
    if any(f is not None for f in inst.fixed) or any(p is not None for p in inst.pinned_start):
        return False
    if inst.frozen_until is not None:
        return False
    if any(arc.finish_to_start is None or arc.start_to_start is not None or arc.end_to_end is not None
           for arc in inst.arcs):
        return False
    return inst.n > 1 and all(cands and all(w > 0 for _, w in cands) for cands in inst.candidates)


def child_search(problem: Problem, plan: Plan, seed: int, lower_bound: int | None) -> ChildSearch:
    """The tabu search from ``plan`` for a child process (see ``child``): its ``run`` blocks
    until the deadline or a stop, reporting each better plan; its ``offer`` passes the child
    a better plan found elsewhere."""
    return ChildSearch("mes.scheduling.engine.critical_path:search_in_child", (problem, plan, seed, lower_bound), "tabu search")
