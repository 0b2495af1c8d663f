"""The quantity rules, pure: nothing beyond what predecessors passed on (batches as they pass)."""
from __future__ import annotations

from hypothesis import given, strategies as st

from mes.shopfloor.quantities import Refusal, Upstream, arrived, check_report, limit, passed_on

upstreams = st.builds(Upstream, good=st.integers(0, 500), done=st.booleans(),
                      transfer_batch=st.one_of(st.none(), st.integers(1, 50)))


def test_transfer_batches_pass_on_whole_batches_until_done():
    assert passed_on(Upstream(9, False, 4)) == 8
    assert passed_on(Upstream(3, False, 4)) == 0
    assert passed_on(Upstream(9, False, None)) == 0
    assert passed_on(Upstream(9, True, 4)) == 9


def test_first_operation_may_use_the_order_quantity_with_tolerance():
    assert limit(100, [], 0) == 100
    assert limit(100, [], 5) == 105
    assert limit(10, [], 5) == 10  # rounded down to whole pieces
    assert limit(10, [Upstream(8, False, 4), Upstream(10, True)], 0) == 8


@given(st.integers(1, 10_000), st.lists(upstreams, max_size=4), st.integers(0, 20))
def test_never_more_than_the_smallest_predecessor_passed_on(quantity, preds, tol):
    allowed = limit(quantity, preds, tol)
    base = min(passed_on(p) for p in preds) if preds else quantity
    assert base <= allowed <= base + base * tol // 100
    for p in preds:
        assert passed_on(p) <= p.good


@given(st.integers(0, 1000), st.lists(st.tuples(st.integers(-3, 60), st.integers(-3, 60)), max_size=30))
def test_accepted_reports_never_exceed_the_limit(allowed, reports):
    total = 0
    for good, scrap in reports:
        refusal = check_report(good, scrap, total, allowed)
        if refusal is None:
            assert good >= 0 and scrap >= 0 and good + scrap > 0
            total += good + scrap
        elif good < 0 or scrap < 0:
            assert refusal == Refusal.NEGATIVE
    assert total <= allowed


@given(st.integers(1, 1000), st.lists(upstreams, min_size=1, max_size=4))
def test_arrived_is_monotonic_in_upstream_progress(quantity, preds):
    more = [Upstream(p.good + 1, p.done, p.transfer_batch) for p in preds]
    assert arrived(quantity, more) >= arrived(quantity, preds)
