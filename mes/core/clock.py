"""The plant's clock: times are stored in UTC; days and shifts are the plant's local ones."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app

from mes.core.db import utcnow


def plant_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["PLANT_TIMEZONE"])


def plant_now() -> dt.datetime:
    return utcnow().astimezone(plant_tz())


def plant_today() -> dt.date:
    """Today in the plant's time zone (the date a planner means, not UTC's)."""
    return plant_now().date()


def day_start(day: dt.date) -> dt.datetime:
    """Local midnight of ``day`` as an aware datetime."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=plant_tz())


def day_end(day: dt.date) -> dt.datetime:
    """The end of ``day`` (local midnight after it): an order due that day is on time until then."""
    return day_start(day + dt.timedelta(days=1))
