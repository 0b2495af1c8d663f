"""Import pages (placeholder until the import slice lands)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/import")
