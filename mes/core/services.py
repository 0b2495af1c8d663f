"""Logging in (password, badge, PIN) with throttling, and a user's own account settings."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from mes.core import sessions, throttle
from mes.core.db import session, transaction, utcnow
from mes.core.errors import DomainError, ValidationError
from mes.core.i18n import format_moment
from mes.core.models import KioskDevice, Role, User
from mes.core.security import badge_digest, check_secret, hash_secret, identifier, legacy_badge_digest


class LoginFailed(DomainError):
    status = 401
    code = "login_failed"
    default_message = _l("Login failed. Check your input and try again.")


class LoginLocked(DomainError):
    status = 429
    code = "login_locked"

    def __init__(self, until) -> None:  # type: ignore[no-untyped-def]
        super().__init__(_l("Too many failed attempts. Try again after %(time)s."), time=format_moment(until))


def _guard(limits: list[throttle.Limit]) -> None:
    until = throttle.locked_until(limits)
    if until is not None:
        raise LoginLocked(until)


def login_with_password(username: str, password: str, source: str) -> User:
    """``source`` is where the attempt comes from ("ip:<address>" or "kiosk:<id>")."""
    name = identifier(username)
    limits = throttle.account(name, source)
    _guard(limits)
    user = session().scalar(select(User).where(func.lower(User.username) == name))
    ok = check_secret(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        throttle.record_failure(limits)
        raise LoginFailed()
    throttle.record_success(limits[:2])  # this account from this source, and from anywhere
    return user


def login_with_badge(code: str, device_key: str) -> User:
    """A badge scanner types the code; throttled per device and globally (the badge is the account)."""
    limits = [throttle.device(device_key), throttle.global_badge()]
    _guard(limits)
    user = session().scalar(select(User).where(User.badge_digest == badge_digest(code)))
    if user is None:
        user = session().scalar(select(User).where(User.badge_digest == legacy_badge_digest(code)))
        if user is not None and user.active:
            _rekey_badge(user.id, code)
    if user is None or not user.active:
        throttle.record_failure(limits)
        raise LoginFailed()
    return user


def _rekey_badge(user_id: int, code: str) -> None:
    """A badge stored with the old unkeyed digest: store it keyed, now that its code was shown."""
    with transaction() as s:
        user = s.get(User, user_id)
        if user is not None and user.badge_digest == legacy_badge_digest(code):
            user.badge_digest = badge_digest(code)


def login_with_pin(employee_no: str, pin: str, kiosk: KioskDevice | None) -> User:
    """PINs are short, so they are accepted only on enrolled kiosks and throttled three ways."""
    if kiosk is None:
        raise DomainError(_l("PIN login works only on an enrolled shop-floor terminal."), code="kiosk_required")
    number = identifier(employee_no)
    limits = [*throttle.account(f"pin:{number}", f"kiosk:{kiosk.id}"), throttle.device(f"kiosk:{kiosk.id}"),
              throttle.global_pin()]
    _guard(limits)
    user = session().scalar(select(User).where(func.lower(User.employee_no) == number))
    ok = check_secret(user.pin_hash if user else None, pin)
    if not ok or user is None or not user.active:
        throttle.record_failure(limits)
        raise LoginFailed()
    throttle.record_success(limits[:2])  # this account from this source, and from anywhere
    return user


def touch_kiosk(kiosk_id: int) -> None:
    with transaction() as s:
        device = s.get(KioskDevice, kiosk_id)
        if device is not None:
            device.last_seen_at = utcnow()


def set_locale(user_id: int, locale: str) -> None:
    with transaction() as s:
        user = s.get(User, user_id)
        if user is not None:
            user.locale = locale


def change_password(user_id: int, current: str, new: str) -> None:
    with transaction() as s:
        user = s.get(User, user_id)
        if user is None or not check_secret(user.password_hash, current):
            raise ValidationError(fields={"current": [_l("The current password is wrong.")]})
        user.password_hash = hash_secret(new)
        # A new password ends every session of this user.
        user.session_version += 1
        sessions.end_all(s, user.id)


def home_endpoint(user: User) -> str:
    """Where a user lands after login."""
    roles = user.roles
    if roles == {Role.WORKER}:
        return "shopfloor.dispatch"
    if Role.PLANNER in roles:
        return "orders.list_orders"
    if Role.ADMIN in roles and len(roles) == 1:
        return "admin.users"
    return "reports.overview"
