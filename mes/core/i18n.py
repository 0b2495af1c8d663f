"""Languages: English and Chinese (zh_CN), chosen per user, then per session, then by browser."""
from __future__ import annotations

import datetime as dt

from flask import Flask, current_app, has_request_context, request, session
from babel import support
from flask_babel import Babel, Domain, format_date, format_datetime, get_locale
from flask_login import current_user

from mes.core.clock import plant_tz

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
    if request.path.startswith("/floor"):
        # The shop floor speaks Chinese unless the worker switches (one tap on every floor page).
        return current_app.config.get("FLOOR_DEFAULT_LOCALE", "zh_CN")
    match = request.accept_languages.best_match(["en", "zh-CN", "zh", "zh-Hans", "zh-TW"])
    if chosen := normalize(match):
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["PLANT_TIMEZONE"]


class _Domain(Domain):
    """Finds the ``zh_CN`` catalog for the locale Babel makes of it.

    Babel reads ``zh_CN`` as ``zh_Hans_CN``, and gettext then looks in ``zh_Hans_CN`` and ``zh``
    only; the catalog keeps the one code used everywhere else, so look there as well.
    """

    def get_translations(self) -> support.NullTranslations:
        locale = get_locale()
        if locale is None:
            return support.NullTranslations()
        cache = self.get_translations_cache(None)
        key = (str(locale), self.domain[0])
        if key not in cache:
            names = [str(locale)]
            if locale.territory:
                names.append(f"{locale.language}_{locale.territory}")
            translations = support.NullTranslations()
            for dirname in self.translation_directories:
                catalog = support.Translations.load(dirname, names, self.domain[0])
                if isinstance(catalog, support.Translations):
                    translations = catalog
                    break
            cache[key] = translations
        return cache[key]


def format_day(value: dt.date | str | None) -> str:
    """The one way a date is shown: "Nov 18, 2026" / "2026年11月18日"."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return format_date(value.astimezone(plant_tz()).date(), "medium")
    return format_date(value, "medium")


def format_moment(value: dt.datetime | None) -> str:
    """The one way a point in time is shown, in the plant's time zone: the date as
    :func:`format_day`, then hours and minutes."""
    if value is None:
        return ""
    return format_datetime(value, _moment_pattern())


def _moment_pattern() -> str:
    locale = get_locale()
    return "y年M月d日 HH:mm" if locale is not None and locale.language == "zh" else "MMM d, y, HH:mm"


def init_app(app: Flask) -> Babel:
    from pathlib import Path

    babel = Babel(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(Path(__file__).resolve().parent.parent / "translations"),
    )
    babel.domain_instance = _Domain(domain="messages")  # replaces Flask-Babel's cached default
    # One format per kind of value on every page: dates as `day`, points in time as `moment`.
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.filters["moment"] = format_moment
    return babel
