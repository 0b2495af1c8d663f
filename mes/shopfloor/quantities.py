"""The quantity rules of the shop floor, pure (no Flask, no database).

An operation may report at most as many pieces (good plus scrap) as reached it:

* the first operations of an order (no predecessor) may use the order quantity;
* a later operation may use what *every* predecessor has passed on (the smallest of them): a
  finished predecessor passes on its good pieces; an unfinished one with a transfer batch passes
  on its good pieces in whole batches as they are completed; an unfinished one without a
  transfer batch passes on nothing yet;
* a configurable over-production tolerance (percent, rounded down to whole pieces) is allowed
  on top, for the odd extra piece a counting error or an extra blank gives.

A report has whole, non-negative quantities and at least one piece.
"""
from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Upstream:
    """What one predecessor has done so far."""

    good: int
    done: bool
    transfer_batch: int | None = None


class Refusal(enum.StrEnum):
    NEGATIVE = "negative"
    EMPTY = "empty"
    TOO_MANY = "too_many"


def passed_on(pred: Upstream) -> int:
    """Pieces a predecessor has handed to its successors."""
    if pred.done:
        return max(pred.good, 0)
    if pred.transfer_batch:
        return max(pred.good, 0) // pred.transfer_batch * pred.transfer_batch
    return 0


def arrived(order_quantity: int, preds: Sequence[Upstream]) -> int:
    """Pieces that have reached the operation (before any tolerance)."""
    if not preds:
        return order_quantity
    return min(passed_on(p) for p in preds)


def limit(order_quantity: int, preds: Sequence[Upstream], tolerance_percent: int = 0) -> int:
    """The most good plus scrap the operation may have reported in total."""
    base = arrived(order_quantity, preds)
    return base + base * max(tolerance_percent, 0) // 100


def check_report(good: int, scrap: int, reported: int, allowed: int) -> Refusal | None:
    """Why a report of ``good`` and ``scrap`` on an operation that has ``reported`` pieces so far
    (good plus scrap) and may have ``allowed`` is refused, or None when it may be booked."""
    if good < 0 or scrap < 0:
        return Refusal.NEGATIVE
    if good + scrap == 0:
        return Refusal.EMPTY
    if reported + good + scrap > allowed:
        return Refusal.TOO_MANY
    return None


def remaining(reported: int, allowed: int) -> int:
    """How many more pieces may be reported."""
    return max(allowed - reported, 0)
