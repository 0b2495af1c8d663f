"""Languages: English and Chinese (zh_CN), chosen per user, then per session, then by browser."""
from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel
from flask_login import current_user

LOCALES = ("en", "zh_CN")


def normalize(code: str | None) -> str | None:
    """Map what browsers and users send (``zh``, ``zh-CN``, ``zh-Hans``, ``en-US``) to our codes."""
    if not code:
        return None
    code = code.replace("-", "_")
    if code.lower().startswith("zh"):
        return "zh_CN"
    if code.lower().startswith("en"):
        return "en"
    return None


def select_locale() -> str:
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if getattr(current_user, "is_authenticated", False) and (chosen := normalize(current_user.locale)):
        return chosen
    if chosen := normalize(session.get("locale")):
        return chosen
    match = request.accept_languages.best_match(["en", "zh-CN", "zh", "zh-Hans", "zh-TW"])
    if chosen := normalize(match):
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["PLANT_TIMEZONE"]


def init_app(app: Flask) -> Babel:
    from pathlib import Path

    return Babel(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(Path(__file__).resolve().parent.parent / "translations"),
    )
