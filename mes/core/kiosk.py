"""Enrolled shop-floor devices: a long-lived cookie names the tablet; PIN login needs one."""
from __future__ import annotations

from flask import Response, current_app, g, request
from sqlalchemy import select

from mes.core.db import session
from mes.core.models import KioskDevice
from mes.core.security import digest

COOKIE = "mes_kiosk"


def current_kiosk() -> KioskDevice | None:
    """The enrolled, not revoked device this request comes from, if any."""
    if "mes_kiosk" not in g:
        raw = request.cookies.get(COOKIE)
        device = None
        if raw:
            device = session().scalar(select(KioskDevice).where(KioskDevice.digest == digest(raw)))
            if device is not None and not device.active:
                device = None
        g.mes_kiosk = device
    return g.mes_kiosk


def set_cookie(response: Response, raw_token: str) -> None:
    response.set_cookie(
        COOKIE,
        raw_token,
        max_age=current_app.config["KIOSK_COOKIE_DAYS"] * 86400,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
