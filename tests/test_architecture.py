"""The package rules of docs/architecture.md, checked on the source: every import of every module
under mes/ (at the top of a file or inside a function) must point down the package order, so no
two packages depend on each other; blueprints are collected only on top; the scheduling engine
stays pure."""
from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "mes"

#: Domain packages from the bottom up: each may import the ones before it, never the ones after.
ORDER = ["core", "machines", "operations", "routing", "orders", "scheduling", "shopfloor", "machinedata", "quality",
         "reports", "admin", "imports"]
#: Modules that assemble the application and may import anything.
TOP = {"mes", "mes.app", "mes.cli", "mes.demo", "mes.models", "mes.api"}
#: Modules of a package's web side (blueprints, forms, API schemas).
WEB_MODULES = {"views", "api", "forms", "schemas"}
#: Of those, the blueprints: only the app factory and the API collector import them.
ENDPOINT_MODULES = {"views", "api"}
ENGINE = "mes.scheduling.engine"
#: What the engine may import besides the standard library and itself (Numba and numpy: the
#: tabu search's compiled kernel).
ENGINE_THIRD_PARTY = {"ortools", "click", "numba", "numpy"}
#: Function-level imports of mes modules that stay, each for a stated reason.
FUNCTION_LEVEL_ALLOWED: dict[str, str] = {
    "mes.scheduling.engine.solver": "the tabu kernel (and with it the compiler) is loaded in the solving "
                                    "process only where no child process can be started",
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # what it imports (a module, or the package a name comes from)
    line: int
    in_function: bool


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(name: str, source: str, is_package: bool, known: set[str]) -> list[Import]:
    """Every import in ``source`` (the module ``name``), with relative imports resolved and
    ``from package import submodule`` counted as importing the submodule."""
    tree = ast.parse(source)
    function_nodes: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            function_nodes.update(id(n) for n in ast.walk(node) if n is not node)
    package = name if is_package else name.rpartition(".")[0]
    out: list[Import] = []
    for node in ast.walk(tree):
        inside = id(node) in function_nodes
        if isinstance(node, ast.Import):
            out.extend(Import(name, alias.name, node.lineno, inside) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                out.append(Import(name, candidate if candidate in known else base, node.lineno, inside))
    return out


def package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "mes" else None


def is_web(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last in WEB_MODULES or last.endswith("_views")


def is_endpoint(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last in ENDPOINT_MODULES or last.endswith(("_views", "_api"))


def in_engine(module: str) -> bool:
    return module == ENGINE or module.startswith(ENGINE + ".")


def top_level(module: str) -> bool:
    return module in TOP or module.startswith("mes.api.")


def rank(package: str | None) -> int:
    if package == "config":
        return 0
    return ORDER.index(package) if package in ORDER else len(ORDER)


def violation(imp: Import) -> str | None:
    """Why this import breaks the rules, or None when it is allowed."""
    src, dst = imp.module, imp.target
    root = dst.split(".")[0]
    if in_engine(src):
        if root == "mes":
            return None if in_engine(dst) or dst in ("mes", "mes.scheduling") else "the engine imports only itself"
        if root in sys.stdlib_module_names or root in ENGINE_THIRD_PARTY or root == "__future__":
            return None
        return f"the engine must not depend on {root}"
    if root != "mes" or dst == "mes" or in_engine(dst) or top_level(src):
        return None
    if top_level(dst):
        return f"{dst} assembles the application; nothing below it may import it"
    src_pkg, dst_pkg = package_of(src), package_of(dst)
    if dst_pkg in ("core", "config"):
        return None
    if src_pkg in ("core", "config"):
        return "core is the bottom layer and imports no domain package"
    if is_web(dst) and not is_web(src):
        return "a domain module must not import a web module (views, api, forms, schemas)"
    if src_pkg == dst_pkg:
        return None
    if is_endpoint(dst):
        return "blueprints are imported only by the app factory and the API collector"
    if rank(dst_pkg) < rank(src_pkg):
        return None
    return f"{src_pkg} is below {dst_pkg} in the package order"


def all_modules(root: Path = ROOT) -> dict[str, tuple[str, bool]]:
    return {module_name(p, root): (p.read_text(encoding="utf-8"), p.name == "__init__.py") for p in sorted(root.rglob("*.py"))}


def check(modules: dict[str, tuple[str, bool]]) -> tuple[list[str], list[str]]:
    """(forbidden imports, function-level imports of mes modules) as readable lines."""
    known = set(modules)
    forbidden, hidden = [], []
    for name, (source, is_package) in modules.items():
        for imp in imports_of(name, source, is_package, known):
            why = violation(imp)
            if why:
                forbidden.append(f"{name}:{imp.line} imports {imp.target}: {why}")
            if imp.in_function and imp.target.split(".")[0] == "mes" and name not in FUNCTION_LEVEL_ALLOWED:
                hidden.append(f"{name}:{imp.line} imports {imp.target} inside a function")
    return forbidden, hidden


def test_imports_point_down_the_package_order():
    forbidden, _ = check(all_modules())
    assert forbidden == []


def test_imports_are_at_the_top_of_files():
    _, hidden = check(all_modules())
    assert hidden == []


def test_every_domain_package_has_a_place_in_the_order():
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()} - {"api", "translations", "static"}
    assert packages <= set(ORDER), f"add {packages - set(ORDER)} to ORDER and docs/architecture.md"


def _fake(**sources: str) -> dict[str, tuple[str, bool]]:
    modules = all_modules()
    for name, source in sources.items():
        modules[name] = (source, False)
    return modules


@pytest.mark.parametrize(("module", "source", "reason"), [
    ("mes.orders.services", "from mes.scheduling.models import ScheduleVersion\n", "orders is below scheduling"),
    ("mes.routing.services", "def f():\n    from mes.orders import services\n", "routing is below orders"),
    ("mes.core.views", "from mes.reports.overview import overview\n", "core is the bottom layer"),
    ("mes.orders.views", "from mes.routing.views import form_values\n", "blueprints are imported only by the app"),
    ("mes.routing.views", "from mes.orders.forms import SplitForm\n", "routing is below orders"),
    ("mes.orders.views", "from mes.scheduling.services import published_times\n", "orders is below scheduling"),
    ("mes.orders.services", "from mes.operations.forms import parse_operation\n", "must not import a web module"),
    ("mes.machines.services", "from mes.app import create_app\n", "assembles the application"),
    ("mes.scheduling.engine.cpsat", "import flask\n", "must not depend on flask"),
    ("mes.scheduling.engine.cpsat", "from sqlalchemy import select\n", "must not depend on sqlalchemy"),
    ("mes.scheduling.engine.cpsat", "from mes.orders.models import Operation\n", "imports only itself"),
])
def test_a_forbidden_import_fails_the_check(module, source, reason):
    forbidden, _ = check(_fake(**{module: source}))
    assert any(line.startswith(module) and reason in line for line in forbidden), forbidden


def test_an_import_hidden_in_a_function_is_reported():
    _, hidden = check(_fake(**{"mes.machines.services": "def f():\n    from mes.core import db\n"}))
    assert any(line.startswith("mes.machines.services:2") for line in hidden)


def test_allowed_imports_pass_the_check():
    forbidden, hidden = check(_fake(**{
        "mes.orders.views": "from mes.orders.queries import progress\nfrom mes.operations.forms import op_values\n",
        "mes.shopfloor.services": "from mes.orders.models import Operation\nfrom mes.core.db import session\n",
        "mes.scheduling.engine.cpsat": "import itertools\nfrom ortools.sat.python import cp_model\n",
    }))
    assert not [line for line in forbidden if line.split(":")[0] in
                ("mes.orders.views", "mes.shopfloor.services", "mes.scheduling.engine.cpsat")]
