"""Work order numbers follow one configurable scheme, the demo's by default."""
from __future__ import annotations

import datetime as dt

import pytest

from mes.core.clock import plant_today
from mes.orders import numbering


def test_format_and_next_sequence_within_the_period():
    day = dt.date(2026, 12, 2)
    assert numbering.format_number(numbering.DEFAULT_FORMAT, day, 24) == "WO-2612-0024"
    existing = ["WO-2612-0024", "WO-2612-0003", "WO-2611-0099", "X-1", "WO-2612-00x5"]
    assert numbering.next_seq(existing, numbering.DEFAULT_FORMAT, day) == 25
    assert numbering.next_seq([], "{yyyy}/{mm}/{seq}", day) == 1
    assert numbering.next_seq(["2026/12/9", "2026/12/10"], "{yyyy}/{mm}/{seq}", day) == 11


@pytest.mark.parametrize("bad", ["WO-{yymm}", "WO-{seq}-{seq}", "WO-{nope}-{seq}", "WO-{seq:q}"])
def test_bad_formats_are_refused(bad):
    with pytest.raises(ValueError):
        numbering.check_format(bad)


def test_new_orders_are_numbered_like_the_demo(make_order):
    first, second = make_order(), make_order(release=False)
    prefix = f"WO-{plant_today():%y%m}-"
    assert first.number == prefix + "0001" and second.number == prefix + "0002"


def test_the_scheme_is_a_setting(app, make_order):
    app.config["ORDER_NUMBER_FORMAT"] = "A{yy}_{seq:03d}"
    a, b = make_order(), make_order()
    yy = f"{plant_today():%y}"
    assert (a.number, b.number) == (f"A{yy}_001", f"A{yy}_002")
