"""The CP-SAT model of a (sub)problem: one method per constraint family.

Operations fall in three groups. *Free* ones choose a machine among their candidates and a
start; *kept* ones stay on the incumbent's machine and in its order there, but may move in
time; *constant* ones (fixed work, and in a neighbourhood everything else) are data.

Each machine is modelled in its own working time (see ``calendar``): there an operation is
a fixed-size interval, so no-overlap and setups (circuit arcs with setup gaps) need no
calendar logic. Elapsed start and end are linked to working time by one literal per
calendar boundary an operation could cross, which stays cheap because every variable
operation has a bounded start range.

Every variable is named for what it is, with operation i, machine m and job j as indexes, so
an exported model or a solver log reads back: ``s{i}``/``e{i}`` elapsed start and end,
``x{i}_{m}`` machine choice, ``w{i}_{m}`` working start, ``start_past{i}_{m}_{b}`` /
``end_past{i}_{m}_{b}`` calendar boundary b crossed, ``work{i}_{m}`` / ``fixed_work{i}_{m}``
intervals, ``next{m}_{a}_{b}`` circuit arc (b right after a; ``depot`` at the ends),
``idle{m}``, ``pin{i}``, ``T{j}``, ``C{j}``, ``Cmax``, ``deviation{i}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from mes.scheduling.engine.calendar import INFINITY
from mes.scheduling.engine.instance import Instance
from mes.scheduling.engine.plan import Plan, decode, required_setup, timed
from mes.scheduling.engine.problem import TaskStatus, Term

# Combined objective coefficients stay below this so CP-SAT's arithmetic is exact.
MAX_OBJECTIVE = 2**52


@dataclass
class Neighbourhood:
    """Which operations the model may change, and the elapsed start range of each."""

    free: set[int]
    keep: set[int] = field(default_factory=set)
    lo: dict[int, int] = field(default_factory=dict)
    hi: dict[int, int] = field(default_factory=dict)


@dataclass
class _Node:
    """A circuit node: an operation that is or may be on the machine."""

    op: int
    literal: object
    lo: int
    hi: int
    work: int
    wstart: object
    const: bool


@dataclass
class _Option:
    """Operation i on machine m: presence literal, working start (var or s - offset)."""

    op: int
    machine: int
    work: int
    literal: object
    wstart: object
    wlo: int
    whi: int
    interval: object = None
    allowed: list[tuple[int, int]] = field(default_factory=list)


class ScheduleModel:
    """Builds the model; ``solve`` returns a decoded plan (or None) and solver figures."""

    def __init__(self, instance: Instance, neighbourhood: Neighbourhood, incumbent: Plan | None,
                 horizon: int, compaction: bool = False,
                 pin_assumptions: bool = False, tie_break: dict[int, int] | None = None):
        self.inst = instance
        self.hood = neighbourhood
        self.incumbent = incumbent
        self.horizon = horizon
        self.compaction = compaction
        self.pin_assumptions = pin_assumptions
        self.tie_break = tie_break
        self.pin_literal_op: dict[int, int] = {}
        self.model = cp_model.CpModel()
        self.hints: list[tuple[object, int]] = []
        self.start: dict[int, object] = {}
        self.end: dict[int, object] = {}
        self.options: dict[int, list[_Option]] = {}
        self.by_machine: list[list[_Option]] = [[] for _ in instance.machine_keys]
        self.term_expr: dict[Term, tuple[object, int, int]] = {}
        self.setup_terms: list[tuple[object, int]] = []
        self.setup_upper = 0
        self.end_upper: dict[int, int] = {}
        self.start_range: dict[int, tuple[int, int]] = {}
        self._classify()
        self._operations()
        self._calendars()
        self._machine_no_overlap()
        self._setups()
        self._kept_order()
        self._precedence()
        self._pins()
        self._objective_terms()
        self._stability()
        self._objective()

    # -- which operation is what ----------------------------------------------------------

    def _classify(self) -> None:
        inst, hood, inc = self.inst, self.hood, self.incumbent
        self.variable: list[int] = []
        self.const_machine: dict[int, int] = {}
        self.const_start: dict[int, int] = {}
        self.const_end: dict[int, int] = {}
        self.const_wstart: dict[int, int | None] = {}
        for i in range(inst.n):
            f = inst.fixed[i]
            if f is not None:
                self.const_machine[i], self.const_start[i], self.const_end[i] = f.machine, f.start, f.end
                self.const_wstart[i] = f.wstart
            elif i in hood.free or i in hood.keep:
                self.variable.append(i)
            else:
                self.const_machine[i], self.const_start[i], self.const_end[i] = inc.machine[i], inc.start[i], inc.end[i]
                self.const_wstart[i] = inc.wstart[i]
        self.is_variable = set(self.variable)

    def _const_wend(self, i: int) -> int:
        f = self.inst.fixed[i]
        if f is not None:
            return f.wend
        return self.const_wstart[i] + self.inst.work(i, self.const_machine[i])

    # -- variables ---------------------------------------------------------------------------

    def _operations(self) -> None:
        """Start/end variables and one presence literal per machine option."""
        inst, hood, model, inc = self.inst, self.hood, self.model, self.incumbent
        for i in self.variable:
            lo = hood.lo.get(i, inst.earliest(i))
            hi = hood.hi.get(i, self.horizon)
            lo = max(lo, inst.earliest(i))
            if inst.pinned_start[i] is not None:
                # The start range must hold the pin; _pins then fixes it.
                lo = min(lo, inst.pinned_start[i])
                hi = max(hi, inst.pinned_start[i])
            hi = max(hi, lo)
            if i in hood.free:
                machines = inst.candidates[i]
            else:
                m = inc.machine[i]
                machines = [(m, inst.work(i, m))]
            options = []
            for m, work in machines:
                calendar = inst.calendars[m]
                if work == 0:
                    options.append(_Option(i, m, 0, None, None, lo, hi))
                    continue
                wlo = calendar.working(lo)
                whi = calendar.working(hi + 1) - 1
                allowed = calendar.allowed_starts(wlo, whi, work, inst.resumable[i])
                if not allowed:
                    continue
                options.append(_Option(i, m, work, None, None, allowed[0][0], allowed[-1][1]))
                options[-1].allowed = allowed
            if not options:
                # The range admits no start anywhere: widen to the whole horizon on the incumbent machine.
                m = inc.machine[i] if inc is not None else inst.candidates[i][0][0]
                work = inst.work(i, m)
                calendar = inst.calendars[m]
                wlo = calendar.working(lo)
                allowed = calendar.allowed_starts(wlo, calendar.working(self.horizon + 1) - 1, work, inst.resumable[i]) if work else []
                option = _Option(i, m, work, None, None, wlo, allowed[-1][1] if allowed else wlo)
                option.allowed = allowed or [(wlo, wlo)]
                options = [option]
                hi = max(hi, self.horizon)
            s = model.new_int_var(lo, hi, f"s{i}")
            self.start_range[i] = (lo, hi)
            max_end = max(
                (inst.calendars[o.machine].end_of(o.whi, o.work) if o.work else hi) for o in options
            )
            # Nothing ends after the horizon: for makespan that is the target, and tight
            # domains propagate far better than open ones.
            end_upper = max(lo, min(max_end, self.horizon))
            e = model.new_int_var(lo, end_upper, f"e{i}")
            self.end_upper[i] = end_upper
            self.start[i], self.end[i] = s, e
            if len(options) == 1:
                options[0].literal = True
            else:
                for o in options:
                    o.literal = model.new_bool_var(f"x{i}_{o.machine}")
                model.add_exactly_one([o.literal for o in options])
            self.options[i] = options
            for o in options:
                if o.work:
                    self.by_machine[o.machine].append(o)
            if inc is not None:
                self.hints.append((s, inc.start[i]))
                self.hints.append((e, inc.end[i]))
                for o in options:
                    if o.literal is not True:
                        self.hints.append((o.literal, int(inc.machine[i] == o.machine)))

    def _calendars(self) -> None:
        """Link elapsed start/end to each option's working start, boundary by boundary."""
        inst, model, inc = self.inst, self.model, self.incumbent
        for i, options in self.options.items():
            s, e = self.start[i], self.end[i]
            for o in options:
                enforce = [] if o.literal is True else [o.literal]
                if o.work == 0:
                    model.add(e == s).only_enforce_if(enforce)
                    continue
                calendar = inst.calendars[o.machine]
                offset = calendar.offset_at_working(o.wlo)
                crossings = calendar.boundaries(o.wlo, o.whi + o.work)
                full_range = len(o.allowed) == 1
                if not crossings and full_range:
                    o.wstart = s - offset
                    model.add(s >= o.wlo + offset).only_enforce_if(enforce)
                    model.add(s <= o.whi + offset).only_enforce_if(enforce)
                    model.add(e == s + o.work).only_enforce_if(enforce)
                    continue
                ws = model.new_int_var_from_domain(
                    cp_model.Domain.from_intervals([[a, b] for a, b in o.allowed]), f"w{i}_{o.machine}"
                )
                o.wstart = ws
                start_expr = ws + offset
                end_expr = ws + o.work + offset
                # Hint every literal, absent options at their earliest start, so that the
                # incumbent is a complete solution CP-SAT can take at once.
                if inc is not None:
                    chosen = inc.machine[i] == o.machine and inc.wstart[i] is not None
                    hint_ws = inc.wstart[i] if chosen else o.allowed[0][0]
                else:
                    hint_ws = None
                previous = None
                for boundary, delta in crossings:
                    if boundary <= o.whi:
                        y = model.new_bool_var(f"start_past{i}_{o.machine}_{boundary}")
                        model.add(ws >= boundary).only_enforce_if(y)
                        model.add(ws <= boundary - 1).only_enforce_if(~y)
                        if previous is not None:
                            model.add_implication(y, previous)
                        previous = y
                        start_expr += delta * y
                        if hint_ws is not None:
                            self.hints.append((y, int(hint_ws >= boundary)))
                    if inst.resumable[i]:
                        threshold = boundary - o.work + 1
                        if threshold > o.whi:
                            pass
                        elif threshold > o.wlo:
                            z = model.new_bool_var(f"end_past{i}_{o.machine}_{boundary}")
                            model.add(ws >= threshold).only_enforce_if(z)
                            model.add(ws <= threshold - 1).only_enforce_if(~z)
                            end_expr += delta * z
                            if hint_ws is not None:
                                self.hints.append((z, int(hint_ws >= threshold)))
                        else:
                            end_expr += delta
                model.add(s == start_expr).only_enforce_if(enforce)
                if inst.resumable[i]:
                    model.add(e == end_expr).only_enforce_if(enforce)
                else:
                    model.add(e == s + o.work).only_enforce_if(enforce)
                if hint_ws is not None:
                    self.hints.append((ws, hint_ws))

    # -- machines ------------------------------------------------------------------------------

    def _machine_items(self, m: int) -> tuple[list[int], list[_Option]]:
        """Constant operations on m that a variable one could meet, and the variable options."""
        options = self.by_machine[m]
        if not options:
            return [], []
        lo = min(o.wlo for o in options)
        hi = max(o.whi + o.work for o in options)
        consts = [
            i for i, mm in self.const_machine.items()
            if mm == m and self.const_wstart[i] is not None
        ]
        consts.sort(key=lambda i: self.const_wstart[i])
        inside = [i for i in consts if self._const_wend(i) > lo and self.const_wstart[i] < hi]
        before = [i for i in consts if self._const_wend(i) <= lo]
        after = [i for i in consts if self.const_wstart[i] >= hi]
        # The neighbours just outside decide the setups at the edges of the range.
        chosen = ([before[-1]] if before else []) + inside + ([after[0]] if after else [])
        return chosen, options

    def _machine_no_overlap(self) -> None:
        model = self.model
        self.machine_consts: list[list[int]] = []
        for m in range(len(self.inst.machine_keys)):
            consts, options = self._machine_items(m)
            self.machine_consts.append(consts)
            if not options:
                continue
            intervals = []
            for i in consts:
                ws = self.const_wstart[i]
                intervals.append(model.new_fixed_size_interval_var(ws, self._const_wend(i) - ws, f"fixed_work{i}_{m}"))
            for o in options:
                if o.literal is True:
                    o.interval = model.new_fixed_size_interval_var(o.wstart, o.work, f"work{o.op}_{m}")
                else:
                    o.interval = model.new_optional_fixed_size_interval_var(o.wstart, o.work, o.literal, f"work{o.op}_{m}")
                intervals.append(o.interval)
            if len(intervals) > 1:
                model.add_no_overlap(intervals)

    def _setups(self) -> None:
        """Circuit per machine with setups: an arc a->b means b directly follows a there.

        Constant and kept operations are mandatory nodes in their incumbent order, free
        options are optional nodes (their self-loop is the negated presence). Arcs that the
        start ranges make impossible are never created, which keeps circuits small.
        """
        inst, model = self.inst, self.model
        for m in range(len(inst.machine_keys)):
            options = self.by_machine[m]
            if inst.setup[m] is None or not options:
                continue
            nodes, mandatory = self._circuit_nodes(m)
            depot = len(nodes)
            rank = {k: r for r, k in enumerate(mandatory)}
            first = nodes[mandatory[0]] if mandatory else None
            last = nodes[mandatory[-1]] if mandatory else None
            ready = inst.calendars[m].working(inst.now)
            arcs: list[tuple[int, int, int]] = []
            for k, node in enumerate(nodes):
                if k in rank:
                    if rank[k] == 0:
                        arcs.append((depot, k, 0 if node.const else required_setup(inst, m, None, node.op)))
                    if rank[k] == len(mandatory) - 1:
                        arcs.append((k, depot, 0))
                    continue
                setup = required_setup(inst, m, None, node.op)
                if first is None or node.lo + node.work + required_setup(inst, m, node.op, first.op) <= first.hi:
                    arcs.append((depot, k, setup))
                if last is None or last.lo + last.work + required_setup(inst, m, last.op, node.op) <= node.hi:
                    arcs.append((k, depot, 0))
            for a, na in enumerate(nodes):
                for b, nb in enumerate(nodes):
                    if a == b:
                        continue
                    if a in rank and b in rank:
                        if rank[b] != rank[a] + 1:
                            continue
                    setup = required_setup(inst, m, na.op, nb.op)
                    if na.lo + na.work + setup > nb.hi:
                        continue
                    if a in rank and b not in rank and rank[a] + 1 < len(mandatory):
                        after = nodes[mandatory[rank[a] + 1]]
                        if nb.lo + nb.work + required_setup(inst, m, nb.op, after.op) > after.hi:
                            continue
                    if b in rank and a not in rank and rank[b] > 0:
                        before = nodes[mandatory[rank[b] - 1]]
                        if before.lo + before.work + required_setup(inst, m, before.op, na.op) > na.hi:
                            continue
                    arcs.append((a, b, setup))
            hint_next = self._incumbent_successors(m, nodes, depot)
            circuit = []
            incoming_max = [0] * len(nodes)
            label = [str(node.op) for node in nodes] + ["depot"]
            for a, b, setup in arcs:
                literal = model.new_bool_var(f"next{m}_{label[a]}_{label[b]}")
                circuit.append((a, b, literal))
                if hint_next is not None:
                    self.hints.append((literal, int(hint_next.get(a) == b)))
                if b == depot:
                    continue
                nb = nodes[b]
                if a == depot:
                    if not nb.const:
                        model.add(nb.wstart >= ready + setup).only_enforce_if(literal)
                else:
                    na = nodes[a]
                    if na.const and nb.const:
                        continue
                    model.add(nb.wstart >= na.wstart + na.work + setup).only_enforce_if(literal)
                if setup:
                    self.setup_terms.append((literal, setup))
                    incoming_max[b] = max(incoming_max[b], setup)
            self.setup_upper += sum(incoming_max)
            for k, node in enumerate(nodes):
                if node.literal is not True:
                    circuit.append((k, k, ~node.literal))
            if not mandatory:
                empty = model.new_bool_var(f"idle{m}")
                circuit.append((depot, depot, empty))
                if hint_next is not None:
                    self.hints.append((empty, int(hint_next.get(depot) == depot)))
            model.add_circuit(circuit)

    def _circuit_nodes(self, m: int) -> tuple[list[_Node], list[int]]:
        nodes: list[_Node] = []
        for i in self.machine_consts[m]:
            ws = self.const_wstart[i]
            nodes.append(_Node(i, True, ws, ws, self._const_wend(i) - ws, ws, True))
        for o in self.by_machine[m]:
            if o.op in self.hood.free:
                continue
            nodes.append(_Node(o.op, True, o.wlo, o.whi, o.work, o.wstart, False))
        mandatory = sorted(range(len(nodes)), key=lambda k: (self._inc_wstart(nodes[k].op), nodes[k].op))
        for o in self.by_machine[m]:
            if o.op in self.hood.free:
                nodes.append(_Node(o.op, o.literal, o.wlo, o.whi, o.work, o.wstart, False))
        return nodes, mandatory

    def _incumbent_successors(self, m: int, nodes: list[_Node], depot: int) -> dict[int, int] | None:
        inc = self.incumbent
        if inc is None:
            return None
        on_m = [k for k, node in enumerate(nodes) if node.literal is True or inc.machine[node.op] == m]
        on_m.sort(key=lambda k: (self._inc_wstart(nodes[k].op), nodes[k].op))
        successor = {}
        chain = [depot] + on_m + [depot]
        for a, b in zip(chain, chain[1:]):
            successor[a] = b
        for k, node in enumerate(nodes):
            if k not in on_m:
                successor[k] = k
        return successor

    def _inc_wstart(self, i: int) -> int:
        if i in self.const_wstart and self.const_wstart[i] is not None:
            return self.const_wstart[i]
        return self.incumbent.wstart[i]

    def _kept_order(self) -> None:
        """Kept and constant operations keep their incumbent order on each machine."""
        inst, model, inc = self.inst, self.model, self.incumbent
        for m in range(len(inst.machine_keys)):
            chain = [(self.const_wstart[i], i, None) for i in self.machine_consts[m]]
            for o in self.by_machine[m]:
                if o.op in self.hood.keep and o.op not in self.hood.free:
                    chain.append((inc.wstart[o.op], o.op, o))
            if len(chain) < 2:
                continue
            chain.sort(key=lambda t: (t[0], t[1]))
            for (wa, a, oa), (wb, b, ob) in zip(chain, chain[1:]):
                if oa is None and ob is None:
                    continue
                end_a = (self._const_wend(a)) if oa is None else oa.wstart + oa.work
                start_b = wb if ob is None else ob.wstart
                model.add(start_b >= end_a)

    # -- time relations ------------------------------------------------------------------------

    def _time(self, i: int, which: str):
        if i in self.is_variable:
            return self.start[i] if which == "s" else self.end[i]
        return self.const_start[i] if which == "s" else self.const_end[i]

    def _precedence(self) -> None:
        inst, model = self.inst, self.model
        ops = inst.problem.operations
        for arc in inst.arcs:
            a, b = arc.before, arc.after
            if a not in self.is_variable and b not in self.is_variable:
                continue

            if ops[b].status != TaskStatus.PLANNED:
                continue
            if arc.finish_to_start is not None:
                model.add(self._time(b, "s") >= self._time(a, "e") + arc.finish_to_start)
            if arc.start_to_start is not None:
                model.add(self._time(b, "s") >= self._time(a, "s") + arc.start_to_start)
            if arc.end_to_end is not None:
                model.add(self._time(b, "e") >= self._time(a, "e") + arc.end_to_end)

    def _pins(self) -> None:
        """Pinned starts (pinned machines already narrowed the options).

        As assumptions, CP-SAT can name a subset of pins that cannot hold together.
        """
        assumptions = []
        for i in self.variable:
            pinned = self.inst.pinned_start[i]
            if pinned is None:
                continue
            if self.pin_assumptions:
                literal = self.model.new_bool_var(f"pin{i}")
                self.model.add(self.start[i] == pinned).only_enforce_if(literal)
                self.pin_literal_op[literal.index] = i
                assumptions.append(literal)
            else:
                self.model.add(self.start[i] == pinned)
        if assumptions:
            self.model.add_assumptions(assumptions)

    # -- objective -----------------------------------------------------------------------------

    def _completion_bounds(self) -> tuple[dict[int, list[tuple[object, int, int]]], dict[int, int]]:
        """Per job, what bounds its completion: (end variable, offset, upper bound) of its
        variable last operations, and the latest end of its constant ones."""
        inst = self.inst
        sinks = self._sink_set()
        bounds: dict[int, list[tuple[object, int, int]]] = {}
        constants: dict[int, int] = {}
        for j, ops in enumerate(inst.job_ops):
            bounds[j] = [(self.end[i], 0, self.end_upper[i]) for i in ops if i in self.is_variable and i in sinks]
            constants[j] = max((self.const_end[i] for i in ops if i not in self.is_variable), default=-INFINITY)
        return bounds, constants

    def _objective_terms(self) -> None:
        inst, model, inc = self.inst, self.model, self.incumbent
        terms = set(inst.terms)
        bounds, constants = self._completion_bounds()
        completion_hint = {
            j: max((inc.end[i] for i in ops), default=0) for j, ops in enumerate(inst.job_ops)
        } if inc is not None else {}
        if Term.WEIGHTED_TARDINESS in terms:
            expr, constant, upper = 0, 0, 0
            for j, due in enumerate(inst.job_due):
                if due is None or not inst.job_weight[j] or not inst.job_ops[j]:
                    continue
                weight = inst.job_weight[j]
                done = constants[j]
                if not bounds[j]:
                    constant += weight * max(0, done - due)
                    continue
                ub = max([u for _, _, u in bounds[j]] + [done])
                t = model.new_int_var(max(0, done - due), max(0, ub - due), f"T{j}")
                for end, offset, _ in bounds[j]:
                    model.add(t >= end + offset - due)
                expr += weight * t
                upper += weight * max(0, ub - due)
                if inc is not None:
                    self.hints.append((t, max(0, completion_hint[j] - due)))
            self.term_expr[Term.WEIGHTED_TARDINESS] = (expr, constant, upper)
        if Term.MAKESPAN in terms:
            const_max = max([c for c in constants.values()] + [0])
            variable = [b for j in bounds for b in bounds[j]]
            if variable:
                ub = max([u for _, _, u in variable] + [const_max])
                cmax = model.new_int_var(min(0, const_max), ub, "Cmax")
                for end, offset, _ in variable:
                    model.add(cmax >= end + offset)
                model.add(cmax >= const_max)
                self.term_expr[Term.MAKESPAN] = (cmax, 0, ub)
                if inc is not None:
                    self.hints.append((cmax, max(inc.end)))
            else:
                self.term_expr[Term.MAKESPAN] = (0, const_max, 0)
        if Term.TOTAL_FLOW_TIME in terms:
            expr, constant, upper = 0, 0, 0
            for j in range(len(inst.job_keys)):
                weight = inst.job_weight[j]
                if not weight or not inst.job_ops[j]:
                    continue
                release = inst.job_release[j]
                done = constants[j]
                if not bounds[j]:
                    constant += weight * max(0, done - release)
                    continue
                ub = max([u for _, _, u in bounds[j]] + [done, release])
                c = model.new_int_var(max(release, done), ub, f"C{j}")
                for end, offset, _ in bounds[j]:
                    model.add(c >= end + offset)
                expr += weight * (c - release)
                upper += weight * max(0, ub - release)
                if inc is not None:
                    self.hints.append((c, max(release, completion_hint[j])))
            self.term_expr[Term.TOTAL_FLOW_TIME] = (expr, constant, upper)
        if Term.SETUP_TIME in terms:
            expr = sum(lit * setup for lit, setup in self.setup_terms) if self.setup_terms else 0
            upper = self.setup_upper
            self.term_expr[Term.SETUP_TIME] = (expr, 0, upper)

    def _sink_set(self) -> set[int]:
        if not hasattr(self, "_sinks"):
            self._sinks = {i for sinks in self.inst.job_sinks for i in sinks}
        return self._sinks

    def _stability(self) -> None:
        """Operations that leave their previous machine, and how far starts move."""
        inst, model, inc = self.inst, self.model, self.incumbent
        terms = set(inst.terms)
        if Term.MACHINE_CHANGES in terms:
            expr, constant, upper = 0, 0, 0
            ops = inst.problem.operations
            for i in range(inst.n):
                prev = inst.prev_machine[i]
                if prev is None or ops[i].status != TaskStatus.PLANNED:
                    continue
                if i in self.is_variable:
                    literal = next((o.literal for o in self.options[i] if o.machine == prev), None)
                    if literal is None:
                        constant += 1
                    elif literal is not True:
                        expr += 1 - literal
                        upper += 1
                else:
                    constant += self.const_machine[i] != prev
            self.term_expr[Term.MACHINE_CHANGES] = (expr, constant, upper)
        if Term.START_DEVIATION in terms:
            expr, constant, upper = 0, 0, 0
            ops = inst.problem.operations
            for i in range(inst.n):
                prev = inst.prev_start[i]
                if prev is None or ops[i].status != TaskStatus.PLANNED:
                    continue
                if i in self.is_variable:
                    s = self.start[i]
                    lo, hi = self.start_range[i]
                    bound = max(abs(hi - prev), abs(prev - lo))
                    d = model.new_int_var(0, bound, f"deviation{i}")
                    model.add(d >= s - prev)
                    model.add(d >= prev - s)
                    expr += d
                    upper += bound
                    if inc is not None:
                        self.hints.append((d, abs(inc.start[i] - prev)))
                else:
                    constant += abs(self.const_start[i] - prev)
            self.term_expr[Term.START_DEVIATION] = (expr, constant, upper)

    def _objective(self) -> None:
        """Lexicographic levels as one weighted sum, dropping trailing levels that would overflow."""
        levels = []
        for level in self.inst.levels:
            expr, constant, upper = 0, 0, 0
            for term, weight in level:
                e, c, u = self.term_expr.get(term, (0, 0, 0))
                expr += weight * e
                constant += weight * c
                upper += weight * u
            levels.append((expr, constant, upper))
        if self.compaction:
            # Among equally good plans prefer earlier ends: it gives the search a slope.
            ends = [self.end[i] for i in self.variable]
            levels.append((sum(ends), 0, sum(self.end_upper[i] for i in self.variable)))
        if self.tie_break:
            # Some ends pulled earlier, others pushed later: picks a different equal plan.
            expr, upper = 0, 0
            for i, weight in self.tie_break.items():
                if i in self.is_variable:
                    lo, hi = self.start_range[i][0], self.end_upper[i]
                    expr += (self.end[i] - lo) if weight > 0 else (hi - self.end[i])
                    upper += max(0, hi - lo)
            levels.append((expr, 0, upper))
        kept = len(levels)
        while kept > 1:
            scale = 1
            for _, _, upper in levels[1:kept]:
                scale *= upper + 1
            if scale * (levels[0][2] + 1) <= MAX_OBJECTIVE:
                break
            kept -= 1
        self.levels_used = kept
        self.multipliers = []
        objective = 0
        offset = 0
        multiplier = 1
        for expr, constant, upper in reversed(levels[:kept]):
            self.multipliers.insert(0, multiplier)
            objective += multiplier * expr
            offset += multiplier * constant
            multiplier *= upper + 1
        self.offset = offset
        self.level_constants = [c for _, c, _ in levels]
        self.level_exprs = levels
        self.model.minimize(objective + offset)

    def bound_primary(self, value: int) -> None:
        """Require the first level to be at most ``value``."""
        expr, constant, _ = self.level_exprs[0]
        self.model.add(expr + constant <= value)

    # -- solving -------------------------------------------------------------------------------

    def add_hints(self) -> None:
        for var, value in self.hints:
            self.model.add_hint(var, value)

    def extract(self, solver: cp_model.CpSolver) -> Plan | None:
        inst = self.inst
        machine = [0] * inst.n
        order: list[float] = [0.0] * inst.n
        for i in range(inst.n):
            if i in self.is_variable:
                for o in self.options[i]:
                    if o.literal is True or solver.boolean_value(o.literal):
                        machine[i] = o.machine
                        break
                order[i] = solver.value(self.start[i])
            else:
                machine[i] = self.const_machine[i]
                order[i] = self.const_start[i]
        if Term.START_DEVIATION in inst.terms:
            # Left-shifting would undo what the deviation term asks for.
            return timed(inst, machine, order)
        return decode(inst, machine, order)

    def primary_bound(self, solver: cp_model.CpSolver) -> int:
        """A lower bound on the first level from the solver's objective bound."""
        bound = solver.best_objective_bound - self.offset
        return max(0, int(bound // self.multipliers[0]) + self.level_constants[0]) if self.multipliers else 0
