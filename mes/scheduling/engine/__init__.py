"""The pure scheduling engine: a ``Problem`` of plain dataclasses in, a ``Result`` out.

Nothing here imports Flask, SQLAlchemy or any other ``mes`` package: only the standard
library and OR-Tools (CP-SAT). ``mes.scheduling.services`` translates database rows to and
from these objects; ``tests/scheduling/test_purity.py`` keeps the engine that way.

Entry point: ``solver.solve(problem)``. The problem and result types are in ``problem``,
the CP-SAT formulation in ``cpsat``, the independent feasibility check in ``checker``, the
file formats in ``jsonformat`` and ``fjsplib``.
"""
