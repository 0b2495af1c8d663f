"""Compilation of the engine's kernels with Numba, or plain Python where it cannot run.

The kernels (the tabu search of ``critical_path``, the dispatch of ``compiled_dispatch``)
are compiled on first use and their machine code is cached beside the modules (or in the
user's cache folder), so only the first search after an install waits for the compiler.
Without Numba, or with ``MES_NO_JIT`` set, ``kernel`` leaves a function as it is. Only the
modules that run in the searches' child processes import this one, so that the solver and
the web process never load the compiler.
"""

from __future__ import annotations

import os

try:  # Numba is a required dependency; the fallback keeps the engine working without it
    if os.environ.get("MES_NO_JIT"):
        raise ImportError("compilation switched off by MES_NO_JIT")
    from numba import njit

    COMPILED = True
except ImportError:
    njit = None
    COMPILED = False


def kernel(function=None, *, refcounts: bool = True):
    """Compiles ``function`` (cached, without the interpreter lock) where Numba runs.

    ``refcounts=False`` compiles it without Numba's reference counting of arrays: for
    kernels that allocate nothing and are called in inner loops with many arrays, where
    counting the references costs more than the work (measured: 20 times on the dispatch).
    """
    def compile_(f):
        if not COMPILED:
            return f
        options = {} if refcounts else {"_nrt": False}
        return njit(cache=True, nogil=True, **options)(f)

    return compile_ if function is None else compile_(function)
