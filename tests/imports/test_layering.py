"""mes.imports sits above routing and orders: it may use them, and only the app factory and the
API collector may use it."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "mes"
ALLOWED_BELOW = ("mes.core", "mes.machines", "mes.routing", "mes.orders", "mes.api.auth", "mes.imports")
ALLOWED_ABOVE = {ROOT / "__init__.py", ROOT / "api" / "__init__.py"}


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_only_the_app_factory_and_the_api_collector_import_mes_imports():
    users = {path for path in ROOT.rglob("*.py")
             if not path.is_relative_to(ROOT / "imports")
             and any(m == "mes.imports" or m.startswith("mes.imports.") for m in imported_modules(path))}
    assert users == ALLOWED_ABOVE


def test_mes_imports_uses_only_the_packages_below_it():
    for path in (ROOT / "imports").glob("*.py"):
        ours = {m for m in imported_modules(path) if m == "mes" or m.startswith("mes.")}
        strays = {m for m in ours if not m.startswith(ALLOWED_BELOW)}
        assert not strays, (path.name, strays)
