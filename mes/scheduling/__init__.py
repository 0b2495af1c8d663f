"""Scheduling: the pure engine (``engine/``) and its database and web side.

``models`` (schedule versions as tables), ``services`` (build a problem from rows, run the
engine in the background, store and publish plans), ``views`` (the planner's pages) and
``solve_cli`` (``mes solve FILE``, the engine on a problem file). This init imports nothing,
so importing the engine does not pull in the web stack.
"""
