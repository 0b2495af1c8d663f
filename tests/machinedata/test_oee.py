"""OEE on hand-computed cases: the pure module, no app, no database."""
from __future__ import annotations

import pytest

from mes.machinedata.oee import EMPTY, Oee, OeeInput, compute


def test_textbook_case():
    # A 480-minute shift, 400 minutes run, 1.0 min ideal cycle, 360 pieces of which 12 scrap.
    result = compute(OeeInput(planned_minutes=480, run_minutes=400, ideal_minutes=360, good=348, total=360))
    assert result.availability == pytest.approx(400 / 480)
    assert result.performance == pytest.approx(0.9)
    assert result.quality == pytest.approx(348 / 360)
    assert result.oee == pytest.approx(400 / 480 * 0.9 * 348 / 360)
    assert result.oee == pytest.approx(348 / 480)  # good pieces × ideal cycle / planned time
    assert result.availability_loss_minutes == pytest.approx(80)
    assert result.performance_loss_minutes == pytest.approx(40)
    assert result.quality_loss_minutes == pytest.approx(12)


def test_nothing_planned_nothing_run_nothing_made():
    assert compute(EMPTY) == Oee(None, None, None, None, 0.0, 0.0, 0.0)


def test_performance_is_capped_and_losses_never_negative():
    result = compute(OeeInput(planned_minutes=60, run_minutes=90, ideal_minutes=120, good=10, total=10))
    assert result.availability == pytest.approx(1.5)
    assert result.performance == 1.0
    assert result.quality == 1.0
    assert result.availability_loss_minutes == 0.0
    assert result.performance_loss_minutes == 0.0


def test_any_missing_factor_leaves_oee_unknown():
    ran_nothing_made = compute(OeeInput(planned_minutes=100, run_minutes=30, ideal_minutes=0, good=0, total=0))
    assert ran_nothing_made.availability == pytest.approx(0.3)
    assert ran_nothing_made.performance == 0.0
    assert ran_nothing_made.quality is None and ran_nothing_made.oee is None
    assert ran_nothing_made.performance_loss_minutes == pytest.approx(30)
    idle = compute(OeeInput(planned_minutes=100, run_minutes=0, ideal_minutes=0, good=0, total=0))
    assert idle.availability == 0.0 and idle.performance is None and idle.oee is None
    assert idle.availability_loss_minutes == pytest.approx(100)


def test_sums_are_weighted_not_averaged():
    a = OeeInput(planned_minutes=480, run_minutes=480, ideal_minutes=480, good=480, total=480)
    b = OeeInput(planned_minutes=480, run_minutes=0, ideal_minutes=0, good=0, total=0)
    both = a + b
    assert both == OeeInput(960, 480, 480, 480, 480)
    assert compute(both).oee == pytest.approx(0.5)
    assert sum([a, b], EMPTY) == both


def test_pure_module_imports_neither_flask_nor_sqlalchemy():
    import ast
    from pathlib import Path

    import mes.machinedata.oee as module

    tree = ast.parse(Path(module.__file__).read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not {n for n in names if n.split(".")[0] in ("flask", "sqlalchemy", "flask_babel")}
