"""Priority search (squeaky-wheel optimisation): dispatch again and again, each time giving
more priority to the jobs that ended up late and a little less to those with room to spare.

It explores whole plans quickly where CP-SAT neighbourhoods only reshuffle a few
operations, so it carries the due-date objectives early on; LNS then polishes its plans.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from mes.scheduling.engine.heuristic import Rule, dispatch
from mes.scheduling.engine.instance import Instance
from mes.scheduling.engine.plan import Plan, score


class PrioritySearch:
    """Runs until ``deadline`` (time.monotonic()) or ``should_stop()``; reports every plan
    better than its own best through ``on_plan``."""

    def __init__(self, instance: Instance, rules: list[Rule], deadline: float, seed: int = 0,
                 on_plan: Callable[[Plan], None] = lambda plan: None,
                 should_stop: Callable[[], bool] = lambda: False):
        self.inst = instance
        self.rules = [r for r in rules if r.kind == "atcs"] or [Rule("atcs")]
        self.deadline = deadline
        self.rng = random.Random(seed)
        self.on_plan = on_plan
        self.should_stop = should_stop
        works = [min((w for _, w in c), default=0) for c in instance.candidates]
        # Lateness is judged against a day-like scale of the problem's own durations.
        self.scale = max(1.0, 10.0 * sum(works) / max(1, len(works)))
        self.iterations = 0
        self.best_score: tuple[int, ...] | None = None

    def run(self) -> None:
        inst = self.inst
        jobs = len(inst.job_keys)
        boost = [1.0] * jobs
        best_boost = boost[:]
        rule = self.rules[0]
        stale = 0
        while not self.should_stop() and time.monotonic() < self.deadline:
            plan = dispatch(inst, rule, boost)
            self.iterations += 1
            if plan is None:
                return
            value = score(inst, plan)
            if self.best_score is None or value < self.best_score:
                self.best_score, best_boost, stale = value, boost[:], 0
                self.on_plan(plan)
            else:
                stale += 1
            if stale >= 25:
                # Restart from the best priorities, shaken, possibly with another rule.
                boost = [b * self.rng.uniform(0.8, 1.25) for b in best_boost]
                rule = self.rng.choice(self.rules)
                stale = 0
                continue
            for j, ops in enumerate(inst.job_ops):
                due = inst.job_due[j]
                if due is None or not ops:
                    continue
                lateness = max(plan.end[i] for i in ops) - due
                if lateness > 0:
                    boost[j] *= 1.0 + min(1.0, lateness / self.scale) * self.rng.uniform(0.3, 1.0)
                elif lateness < -2 * self.scale:
                    boost[j] = max(0.2, boost[j] * 0.97)
