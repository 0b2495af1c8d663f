"""When inspections are due (first piece, every N, last piece, per lot) and the first-article
gate, on plain values; the plausibility check that catches a slipped decimal point."""
from __future__ import annotations

from decimal import Decimal

from mes.quality.due import (
    EVERY_N,
    FIRST,
    LAST,
    LOT,
    Occasion,
    PlanLine,
    due,
    first_article_open,
    judge,
    plausible,
)

PLAN = [PlanLine("dia", FIRST), PlanLine("len", EVERY_N, 5), PlanLine("look", LAST), PlanLine("lot", LOT)]


def test_first_piece_is_due_from_the_start_until_it_passes():
    assert due(PLAN, 0, 20, {}) == [Occasion("dia", FIRST)]
    assert due(PLAN, 0, 20, {Occasion("dia", FIRST): False}) == [Occasion("dia", FIRST)]  # failed: measure again
    assert due(PLAN, 0, 20, {Occasion("dia", FIRST): True}) == []
    assert first_article_open(PLAN, {}) == ["dia"]
    assert first_article_open(PLAN, {Occasion("dia", FIRST): False}) == ["dia"]
    assert first_article_open(PLAN, {Occasion("dia", FIRST): True}) == []


def test_every_n_pieces_and_per_lot():
    done = {Occasion("dia", FIRST): True}
    assert due(PLAN, 4, 20, done) == [Occasion("lot", LOT)]
    assert due(PLAN, 5, 20, done) == [Occasion("len", EVERY_N, 1), Occasion("lot", LOT)]
    done |= {Occasion("len", EVERY_N, 1): False, Occasion("lot", LOT): True}  # a failed check counts as done
    assert due(PLAN, 9, 20, done) == []
    assert due(PLAN, 12, 20, done) == [Occasion("len", EVERY_N, 2)]


def test_last_piece_when_the_lot_is_reached_or_finishing():
    done = {Occasion("dia", FIRST): True, Occasion("lot", LOT): True}
    assert Occasion("look", LAST) not in due(PLAN, 19, 20, done)
    assert Occasion("look", LAST) in due(PLAN, 20, 20, done)
    assert Occasion("look", LAST) in due(PLAN, 3, 20, done, finishing=True)
    assert Occasion("look", LAST) not in due(PLAN, 20, 20, done | {Occasion("look", LAST): True})


def test_judge_and_plausible():
    lo, hi, nom = Decimal("19.9"), Decimal("20.1"), Decimal(20)
    assert judge(Decimal("19.9"), lo, hi) and judge(Decimal("20.1"), lo, hi) and not judge(Decimal("20.11"), lo, hi)
    assert plausible(Decimal("20.3"), lo, hi, nom)  # a bad part, not a typo
    assert not plausible(Decimal("200.5"), lo, hi, nom)  # 10x
    assert not plausible(Decimal("2.005"), lo, hi, nom)
    assert plausible(Decimal("1.2"), None, Decimal("1.6"))  # one-sided: roughness at most 1.6
    assert not plausible(Decimal(16), None, Decimal("1.6"))
