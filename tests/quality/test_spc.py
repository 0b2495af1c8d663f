"""Control charts, capability and the Western Electric rules on hand-computed cases."""
from __future__ import annotations

import subprocess
import sys

import pytest

from mes.quality import spc


def test_individuals_and_moving_range():
    chart = spc.individuals([10, 12, 11, 13, 14])
    # moving ranges 2, 1, 2, 1: MR-bar 1.5; sigma = 1.5 / 1.128
    assert chart.limits.center == pytest.approx(12)
    assert chart.sigma == pytest.approx(1.3298, abs=1e-4)
    assert chart.limits.ucl == pytest.approx(15.989, abs=1e-3)
    assert chart.limits.lcl == pytest.approx(8.011, abs=1e-3)
    assert chart.range_points == [None, 2, 1, 2, 1]
    assert chart.range_limits.ucl == pytest.approx(4.9005, abs=1e-4)
    assert chart.flags == {}


def test_xbar_r():
    chart = spc.xbar_r([[1, 2, 3], [2, 3, 4], [3, 4, 5]])
    assert chart.points == [2, 3, 4]
    assert chart.limits.center == pytest.approx(3)
    assert chart.limits.ucl == pytest.approx(5.046)  # 3 + A2(3)=1.023 * R-bar 2
    assert chart.limits.lcl == pytest.approx(0.954)
    assert chart.range_limits.ucl == pytest.approx(5.148)  # D4(3)=2.574 * 2
    with pytest.raises(ValueError):
        spc.xbar_r([[1, 2], [1, 2, 3]])


def test_cp_cpk():
    sigma = 1.5 / 1.128
    centred = spc.capability([10, 12, 11, 13, 14], 6, 18, sigma)
    assert centred.cp == pytest.approx(12 / (6 * sigma)) and centred.cp == pytest.approx(1.504, abs=1e-3)
    assert centred.cpk == pytest.approx(centred.cp)
    shifted = spc.capability([10, 12, 11, 13, 14], 9, 18, sigma)
    assert shifted.cp == pytest.approx(1.128, abs=1e-3)
    assert shifted.cpk == pytest.approx(3 / (3 * sigma)) and shifted.cpk == pytest.approx(0.752, abs=1e-3)
    one_sided = spc.capability([1.0, 1.2, 1.4], None, 1.6)
    assert one_sided.cp is None and one_sided.cpk == pytest.approx((1.6 - 1.2) / (3 * 0.2))
    assert spc.capability([5, 5, 5], 0, 10).cpk is None  # no spread


def test_western_electric_rules():
    we = spc.western_electric
    assert we([0, 3.5, 0], 0, 1) == {1: [1]}
    assert we([2.5, 0, 2.2], 0, 1) == {2: [2]}
    assert we([2.5, 0, -2.2], 0, 1) == {}
    assert we([1.5, 1.2, 0.5, 1.1, 1.3], 0, 1) == {4: [3]}
    assert we([1.5, 1.2, -0.5, 1.1, 1.3], 0, 1) == {4: [3]}
    assert we([1.5, -1.2, -0.5, 1.1, 1.3], 0, 1) == {}
    assert we([0.5] * 8, 0, 1) == {7: [4]}
    assert we([0.5] * 7, 0, 1) == {}
    assert we([-0.5] * 9, 0, 1) == {7: [4], 8: [4]}


def test_statistics_import_neither_flask_nor_sqlalchemy():
    code = ("import sys; import mes.quality.spc, mes.quality.due; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy')]; print(bad); assert not bad")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
