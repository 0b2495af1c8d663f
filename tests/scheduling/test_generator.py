"""The realistic shop generator: deterministic, and its load stretches releases and due dates."""

from __future__ import annotations

from mes.scheduling.engine.generator import WEEK, shop_problem


def test_same_seed_same_shop():
    assert shop_problem(orders=30, seed=4) == shop_problem(orders=30, seed=4)


def test_load_one_on_two_hundred_orders_is_the_default_shop():
    assert shop_problem(orders=200, seed=1, load=1.0) == shop_problem(orders=200, seed=1)


def test_load_stretches_releases_due_dates_and_calendars_with_the_orders():
    plain = shop_problem(orders=600, seed=2)
    stretched = shop_problem(orders=600, seed=2, load=1.0)
    assert len(plain.operations) == len(stretched.operations) > 2500
    assert max(j.due for j in plain.jobs) <= 3 * WEEK < max(j.due for j in stretched.jobs)
    assert max(j.release for j in stretched.jobs) > max(j.release for j in plain.jobs)
    last_window = max(w.end for m in stretched.machines for w in m.windows)
    assert last_window > max(j.due for j in stretched.jobs)
