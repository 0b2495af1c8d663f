"""mes: a lightweight manufacturing execution system for high-mix, low-volume job shops.

The package init stays import-free so that pure cores (``mes.scheduling.engine``) load
without Flask or SQLAlchemy; the application factory lives in ``mes.app``.
"""

__version__ = "0.1.0"
