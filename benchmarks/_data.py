"""Where the shared benchmark data is, for the benchmark scripts and the tests alike.

The data is not in the repository: it sits in ``shared/benchmarks`` beside the repository
folder (the one holding pyproject.toml), which is how CI lays it out after cloning, or
wherever the environment variable ``MES_BENCHMARK_DATA`` points.
"""

from __future__ import annotations

import os
from pathlib import Path

ENVIRONMENT_VARIABLE = "MES_BENCHMARK_DATA"


def repository_root() -> Path:
    """The folder holding pyproject.toml, above this file."""
    here = Path(__file__).resolve()
    for folder in here.parents:
        if (folder / "pyproject.toml").is_file():
            return folder
    raise RuntimeError(f"no pyproject.toml above {here}")


def benchmark_data(*parts: str) -> Path:
    """The benchmark data folder, or a path inside it (which may not exist)."""
    configured = os.environ.get(ENVIRONMENT_VARIABLE)
    base = Path(configured).expanduser() if configured else repository_root().parent / "shared" / "benchmarks"
    return base.joinpath(*parts)


def missing(path: Path) -> str:
    """Why ``path`` is not there and how to provide it."""
    return (f"benchmark data not found: {path} (put shared/benchmarks beside the repository folder, "
            f"or set {ENVIRONMENT_VARIABLE} to the folder holding fjsp/)")
