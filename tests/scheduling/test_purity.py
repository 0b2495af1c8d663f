"""The scheduling engine stays pure: it imports and solves with the web stack made unimportable.

Each case runs a fresh interpreter whose first import hook refuses Flask, SQLAlchemy and their
kin, and every ``mes`` module outside ``mes.scheduling.engine`` (the ``mes`` and
``mes.scheduling`` package inits excepted), as if they were not installed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BLOCKER = textwrap.dedent(
    """
    import sys

    BLOCKED = ("flask", "sqlalchemy", "werkzeug", "babel", "wtforms", "alembic")
    ALLOWED_MES = ("mes", "mes.scheduling", "mes.scheduling.engine")


    def blocked(name):
        top = name.partition(".")[0]
        if top in BLOCKED or top.startswith("flask_"):
            return True
        if top == "mes":
            return name not in ALLOWED_MES and not name.startswith("mes.scheduling.engine.")
        return False


    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if blocked(name):
                raise ImportError(f"blocked by the purity test: {name}", name=name)
            return None


    assert not [name for name in sys.modules if blocked(name)]
    sys.meta_path.insert(0, Blocker())
    """
)

ENGINE = textwrap.dedent(
    """
    import importlib
    import pkgutil

    import mes.scheduling.engine as engine

    names = [f"{engine.__name__}.{m.name}" for m in pkgutil.iter_modules(engine.__path__)]
    for name in names:
        importlib.import_module(name)

    from mes.scheduling.engine.checker import check
    from mes.scheduling.engine.problem import Job, Precedence, Problem, Resource, SolveStatus, Task
    from mes.scheduling.engine.solver import solve

    problem = Problem(
        machines=(Resource("M1"), Resource("M2")),
        jobs=(Job("J1", due=30), Job("J2")),
        operations=(
            Task("J1.1", "J1", {"M1": 10, "M2": 15}),
            Task("J1.2", "J1", {"M2": 5}),
            Task("J2.1", "J2", {"M1": 7}),
        ),
        precedences=(Precedence("J1.1", "J1.2"),),
    )
    result = solve(problem, time_limit=5, workers=1)
    assert result.status == SolveStatus.OPTIMAL, result.status
    assert check(problem, result) == []
    assert not [name for name in sys.modules if blocked(name)]
    print(len(names), "modules", result.levels)
    """
)


def run_blocked(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + code], capture_output=True, text=True, cwd=ROOT, timeout=120,
    )


def test_engine_imports_and_solves_without_the_web_stack():
    done = run_blocked(ENGINE)
    assert done.returncode == 0, done.stderr
    count = int(done.stdout.split()[0])
    assert count >= 13  # problem, instance, calendar, ..., cpsat, solver, checker, file formats


def test_the_blocker_refuses_the_database_side():
    done = run_blocked("import mes.scheduling.services\n")
    assert done.returncode != 0
    assert "blocked by the purity test" in done.stderr
