"""Pure-Python searches in a child process, trading plans with the solver.

The pure-Python searches (the priority search of large due-date shops, the tabu search of
flexible job shops) would share this process's interpreter lock with the CP-SAT side, which
takes it to build every neighbourhood model: measured on Brandimarte mk10, the tabu search
in a thread gets about half the steps it gets alone. In a child process both cores search
all the time.

The child is a fresh interpreter running this module (``python -m``), given the search's entry
and arguments on its standard input: it does not import the caller's main script, as
multiprocessing would, and works from a web worker, a daemon process or a script alike.
Better plans come back on its standard output; plans found elsewhere go to it on its
standard input while it runs.
"""

from __future__ import annotations

import importlib
import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from mes.scheduling.engine.plan import Plan

# The folder holding the ``mes`` package, for the child process's import path.
_ROOT = Path(__file__).resolve().parents[3]


class ChildSearch:
    """One search in a child process: ``run`` blocks until the deadline, a stop or the
    search's own end, calling ``on_plan`` (from a reading thread, one call at a time) with
    each better plan the child finds; ``offer`` passes it a plan found elsewhere.

    ``entry`` names the child's side of the search as ``module:function`` (a function of the
    arguments, the deadline, a function sending a better plan to the parent and one taking
    a function to call with each plan the parent offers); ``arguments`` are what it is
    started with; ``name`` names it in errors.
    Raises ``OSError`` when no process can be started, and ``RuntimeError`` when the search
    in the child failed.
    """

    def __init__(self, entry: str, arguments: tuple, name: str):
        self.entry = entry
        self.arguments = arguments
        self.name = name
        self.child: subprocess.Popen | None = None
        self.send_lock = threading.Lock()

    def offer(self, plan: Plan) -> None:
        """Give the running child a better plan found elsewhere (ignored once it has ended)."""
        with self.send_lock:
            if self.child is None or self.child.stdin is None or self.child.stdin.closed:
                return
            try:
                pickle.dump(plan, self.child.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                self.child.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass  # the child has ended: nothing to tell it

    def run(self, deadline: float, on_plan: Callable[[Plan], None], should_stop: Callable[[], bool]) -> None:
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), environment.get("PYTHONPATH")]))
        child = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 env=environment)
        failures: list[str] = []

        def read() -> None:
            try:
                while True:
                    message = pickle.load(child.stdout)
                    if isinstance(message, str):
                        failures.append(message)
                    if not isinstance(message, Plan):
                        return
                    on_plan(message)
            except (EOFError, OSError, pickle.UnpicklingError):
                return  # the child ended or was ended

        reader = threading.Thread(target=read, name=f"mes-{self.name}-reader", daemon=True)
        try:
            with self.send_lock:
                pickle.dump((self.entry, self.arguments, max(0.0, deadline - time.monotonic())), child.stdin,
                            protocol=pickle.HIGHEST_PROTOCOL)
                child.stdin.flush()
                self.child = child
            reader.start()
            while reader.is_alive() and not should_stop() and time.monotonic() < deadline:
                reader.join(0.05)
        finally:
            # The search has nothing to finish: end it at once (before taking the lock, so
            # that an offer blocked on a full pipe fails instead of holding it).
            child.kill()
            with self.send_lock:
                self.child = None
                try:
                    child.stdin.close()
                except OSError:
                    pass
            child.wait()
            if reader.is_alive():
                reader.join()
            child.stdout.close()
        if failures:
            raise RuntimeError(f"The {self.name} failed: {failures[0]}")


def compile_kernels_in_background() -> subprocess.Popen | None:
    """Starts a process of low priority that compiles the searches' kernels (the tabu search's
    and the dispatch's), or finds them in Numba's cache within a second or two: the server
    calls it when it starts, so that the first solve after an install does not spend its first
    seconds waiting for the compiler. None where no process can be started."""
    code = ("import os\n"
            "if hasattr(os, 'nice'): os.nice(10)\n"
            "from mes.scheduling.engine import critical_path, sequence_search\n"
            "critical_path.warm_up()\n"
            "sequence_search.warm_up()\n")
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), environment.get("PYTHONPATH")]))
    try:
        return subprocess.Popen([sys.executable, "-c", code], env=environment, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return None


def _child() -> None:
    """The child's side: the search from standard input, better plans to standard output;
    plans found elsewhere keep coming on standard input and go to ``inbox``."""
    out, source = sys.stdout.buffer, sys.stdin.buffer
    entry, arguments, seconds = pickle.load(source)
    deadline = time.monotonic() + seconds
    takers: list[Callable[[Plan], None]] = []
    waiting: list[Plan] = []  # plans that came before the search was ready to take them
    lock = threading.Lock()

    def send(message: object) -> None:
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    def receive() -> None:
        try:
            while True:
                plan = pickle.load(source)
                with lock:
                    if not takers:
                        waiting.append(plan)
                    for take in takers:
                        take(plan)
        except (EOFError, OSError, pickle.UnpicklingError):
            return  # the parent has closed its side

    def inbox(take: Callable[[Plan], None]) -> None:
        with lock:
            takers.append(take)
            for plan in waiting:
                take(plan)
            waiting.clear()

    threading.Thread(target=receive, daemon=True).start()
    try:
        module, function = entry.split(":")
        getattr(importlib.import_module(module), function)(arguments, deadline, send, inbox)
        send(None)
    except BrokenPipeError:
        pass  # the parent has gone or ended the search
    except Exception as error:  # raised again in the parent: a bug must not vanish here
        send(f"{type(error).__name__}: {error}")


if __name__ == "__main__":
    _child()
