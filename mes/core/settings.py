"""Plant settings chosen on the first-run page (the plant's name, time zone, default language),
stored in the database; the environment's values (mes.config) are the defaults until then."""
from __future__ import annotations

import time
from zoneinfo import available_timezones

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mes.core.db import session
from mes.core.models import PlantSetting, User

#: setting key -> the app config entry it overrides
KEYS = {"plant_name": "PLANT_NAME", "timezone": "PLANT_TIMEZONE", "locale": "BABEL_DEFAULT_LOCALE"}
#: Other processes (the scheduler's worker, a second web process) see a change within this time.
REFRESH_SECONDS = 15
_LOADED_AT = "mes.settings_loaded_at"
HAS_USERS = "mes.has_users"


def timezones() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/")))


def store(s: Session, values: dict[str, str]) -> None:
    """Save settings in the caller's transaction (and apply them to this process once committed:
    see :func:`apply`)."""
    for key, value in values.items():
        row = s.get(PlantSetting, key)
        if row is None:
            s.add(PlantSetting(key=key, value=value))
        else:
            row.value = value


def apply(app: Flask, values: dict[str, str]) -> None:
    for key, value in values.items():
        if key in KEYS and value:
            app.config[KEYS[key]] = value


def refresh(force: bool = False) -> None:
    """``before_request``: copy the stored settings into the app's config every few seconds."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    now = time.monotonic()
    if not force and now - app.extensions.get(_LOADED_AT, -REFRESH_SECONDS) < REFRESH_SECONDS:
        return
    app.extensions[_LOADED_AT] = now
    apply(app, dict(session().execute(select(PlantSetting.key, PlantSetting.value)).all()))


def has_users() -> bool:
    """Whether anyone can log in yet; once true it stays true (users are deactivated, never deleted)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.extensions.get(HAS_USERS):
        return True
    found = bool(session().scalar(select(func.count()).select_from(User)))
    if found:
        app.extensions[HAS_USERS] = True
    return found


def init_app(app: Flask) -> None:
    app.before_request(refresh)
