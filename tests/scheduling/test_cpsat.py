"""The CP-SAT formulation itself: every variable and interval is named for what it is."""

from __future__ import annotations

import re
from collections import Counter

from mes.scheduling.engine.cpsat import Neighbourhood, ScheduleModel
from mes.scheduling.engine.generator import breakdown_scenario, busiest_machine, shop_problem
from mes.scheduling.engine.heuristic import default_rules, dispatch
from mes.scheduling.engine.instance import Instance
from mes.scheduling.engine.problem import Phase
from mes.scheduling.engine.solver import _horizon, plan_result


def _is_interval(constraint) -> bool:  # type: ignore[no-untyped-def]
    # OR-Tools 9.15 has its own proto classes; older versions use protobuf's.
    if hasattr(constraint, "has_interval"):
        return constraint.has_interval()
    return constraint.HasField("interval")


def names(model: ScheduleModel) -> list[str]:
    proto = model.model.Proto()
    return [v.name for v in proto.variables] + [c.name for c in proto.constraints if _is_interval(c)]


def test_every_variable_and_interval_has_a_unique_name():
    # Calendars, setups, a breakdown, a previous plan (stability terms), and constant work
    # in the neighbourhood model.
    shop = shop_problem(orders=6, seed=3)
    first = Instance(shop)
    previous = plan_result(first, dispatch(first, default_rules(first)[0]), Phase.HEURISTIC)
    problem = breakdown_scenario(shop, previous, busiest_machine(previous, 480))
    instance = Instance(problem)
    plan = dispatch(instance, default_rules(instance)[0])
    movable = [i for i in range(instance.n) if instance.fixed[i] is None]
    whole = Neighbourhood(free=set(movable))
    part = Neighbourhood(free=set(movable[::3]), keep=set(movable[1::3]))
    families: set[str] = set()
    for hood in (whole, part):
        found = names(ScheduleModel(instance, hood, plan, _horizon(instance, plan)))
        assert "" not in found
        assert [name for name, count in Counter(found).items() if count > 1] == []
        families |= {re.match(r"\D*", name).group().rstrip("_") for name in found}
    # The scenario reaches every family, the calendar, interval, circuit and deviation ones included.
    assert {"s", "e", "x", "w", "start_past", "end_past", "work", "fixed_work", "next", "idle", "T", "Cmax",
            "deviation"} <= families, families
