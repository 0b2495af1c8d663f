"""Precedence between the operations of a route: the chain by default, explicit predecessors
for parallel branches that join. Pure: works on plain values, for routings and work orders alike."""
from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Node(Generic[K]):
    key: K
    seq: int
    follows_previous: bool = True
    predecessors: tuple[K, ...] = ()  # used when follows_previous is False


def effective_edges(nodes: Sequence[Node[K]]) -> list[tuple[K, K]]:
    """(predecessor, successor) pairs: each chained node follows the one before it in sequence."""
    ordered = sorted(nodes, key=lambda n: n.seq)
    edges: list[tuple[K, K]] = []
    for i, node in enumerate(ordered):
        if node.follows_previous:
            if i > 0:
                edges.append((ordered[i - 1].key, node.key))
        else:
            edges.extend((p, node.key) for p in node.predecessors)
    return edges


def find_cycle(keys: Iterable[K], edges: Iterable[tuple[K, K]]) -> list[K] | None:
    """The keys on one cycle, or None when the graph is acyclic."""
    sorter: TopologicalSorter[K] = TopologicalSorter()
    for key in keys:
        sorter.add(key)
    for pred, succ in edges:
        sorter.add(succ, pred)
    try:
        sorter.prepare()
    except CycleError as exc:
        return list(exc.args[1])
    return None


def bypass(edges: Iterable[tuple[K, K]], removed: set[K]) -> list[tuple[K, K]]:
    """Edges with ``removed`` nodes taken out and their predecessors joined to their successors
    (a skipped operation passes its precedence through)."""
    preds: dict[K, set[K]] = {}
    succs: dict[K, set[K]] = {}
    for p, s in edges:
        succs.setdefault(p, set()).add(s)
        preds.setdefault(s, set()).add(p)

    def upstream(k: K, seen: set[K]) -> set[K]:
        out: set[K] = set()
        for p in preds.get(k, ()):
            if p in seen:
                continue
            seen.add(p)
            out |= upstream(p, seen) if p in removed else {p}
        return out

    result: set[tuple[K, K]] = set()
    for _p, s in edges:
        if s in removed:
            continue
        for p in upstream(s, set()):
            result.add((p, s))
    return sorted(result, key=lambda e: (str(e[0]), str(e[1])))


def successors(edges: Iterable[tuple[K, K]]) -> Mapping[K, list[K]]:
    out: dict[K, list[K]] = {}
    for p, s in edges:
        out.setdefault(p, []).append(s)
    return out


def descendants(key: K, edges: Iterable[tuple[K, K]]) -> set[K]:
    succ = successors(list(edges))
    seen: set[K] = set()
    stack = [key]
    while stack:
        for nxt in succ.get(stack.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def encode(ordered_keys: Sequence[K], edges: Iterable[tuple[K, K]]) -> dict[K, tuple[bool, tuple[K, ...]]]:
    """For keys in sequence order and the wanted edges, how each node is stored: following the
    previous one when that gives exactly its wanted predecessors, else with explicit ones."""
    wanted: dict[K, set[K]] = {k: set() for k in ordered_keys}
    for p, s in edges:
        wanted[s].add(p)
    out: dict[K, tuple[bool, tuple[K, ...]]] = {}
    for i, key in enumerate(ordered_keys):
        chain = {ordered_keys[i - 1]} if i > 0 else set()
        if wanted[key] == chain:
            out[key] = (True, ())
        else:
            out[key] = (False, tuple(sorted(wanted[key], key=ordered_keys.index)))
    return out
