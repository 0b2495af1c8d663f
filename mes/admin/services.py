"""Use cases of the administrator: users, kiosk enrollment, API tokens."""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mes.core import settings
from mes.core.db import transaction, utcnow
from mes.core import audit
from mes.core.audit import current_actor
from mes.core.errors import Conflict, NotFound, ValidationError
from mes.core.models import ApiToken, KioskDevice, Role, User, UserRole
from mes.core.security import badge_digest, digest, hash_secret, identifier, legacy_badge_digest, new_token


@dataclass
class UserInput:
    username: str
    display_name: str
    roles: list[Role]
    employee_no: str | None = None
    password: str | None = None
    badge: str | None = None
    pin: str | None = None
    locale: str | None = None
    active: bool = True


def _check_unique(s: Session, data: UserInput, user_id: int | None) -> None:
    errors: dict[str, list] = {}
    taken = s.scalar(select(User.id).where(func.lower(User.username) == identifier(data.username)))
    if taken and taken != user_id:
        errors["username"] = [_l("This username is taken.")]
    if data.employee_no:
        taken = s.scalar(select(User.id).where(func.lower(User.employee_no) == identifier(data.employee_no)))
        if taken and taken != user_id:
            errors["employee_no"] = [_l("This employee number is taken.")]
    if data.badge:
        taken = s.scalar(select(User.id).where(User.badge_digest.in_(
            [badge_digest(data.badge), legacy_badge_digest(data.badge)])))
        if taken and taken != user_id:
            errors["badge"] = [_l("This badge belongs to another user.")]
    if not data.roles:
        errors["roles"] = [_l("Choose at least one role.")]
    if data.pin and not data.employee_no:
        errors["employee_no"] = [_l("A PIN needs an employee number to log in with.")]
    if errors:
        raise ValidationError(fields=errors)


def _apply(user: User, data: UserInput) -> None:
    # Stored as they are looked up (mes.core.security.identifier): one account per spelling.
    user.username = identifier(data.username)
    user.display_name = data.display_name.strip()
    user.employee_no = identifier(data.employee_no or "") or None
    user.locale = data.locale or None
    if user.active and not data.active:
        user.session_version += 1
    user.active = data.active
    if data.password:
        user.password_hash = hash_secret(data.password)
        user.session_version += 1
    if data.badge:
        user.badge_digest = badge_digest(data.badge)
    if data.pin:
        user.pin_hash = hash_secret(data.pin)
    wanted = {Role(r) for r in data.roles}
    user.role_rows = [r for r in user.role_rows if Role(r.role) in wanted]
    have = {Role(r.role) for r in user.role_rows}
    for role in sorted(wanted - have):
        user.role_rows.append(UserRole(role=role.value))


def create_user_in(s: Session, data: UserInput) -> int:
    """Create a user inside the caller's transaction (an import of many users at once)."""
    _check_unique(s, data, None)
    user = User(username="", display_name="", session_version=1)
    _apply(user, data)
    s.add(user)
    s.flush()
    return user.id


def create_user(data: UserInput) -> int:
    with transaction() as s:
        return create_user_in(s, data)


def update_user_in(s: Session, user_id: int, data: UserInput) -> None:
    """Update a user inside the caller's transaction; an empty password, badge or PIN keeps the old one."""
    user = s.get(User, user_id)
    if user is None:
        raise NotFound()
    if user_id == current_actor().user_id and (Role.ADMIN not in data.roles or not data.active):
        # Nobody would be left to undo it.
        raise Conflict(_l("You cannot remove your own administrator role or deactivate yourself."))
    _check_unique(s, data, user_id)
    _apply(user, data)
    s.flush()


def update_user(user_id: int, data: UserInput) -> None:
    with transaction() as s:
        update_user_in(s, user_id, data)


def log_out_everywhere(user_id: int) -> None:
    with transaction() as s:
        user = s.get(User, user_id)
        if user is None:
            raise NotFound()
        user.session_version += 1


def enroll_kiosk(name: str, work_center_id: int | None, enrolled_by_id: int) -> str:
    """Register this browser as a shop-floor terminal; returns the raw device key for its cookie."""
    if not name.strip():
        raise ValidationError(fields={"name": [_l("This field is required.")]})
    raw = secrets.token_urlsafe(32)
    with transaction() as s:
        device = KioskDevice(name=name.strip(), work_center_id=work_center_id, digest=digest(raw), enrolled_by_id=enrolled_by_id)
        s.add(device)
        s.flush()
        audit.record(s, "kiosk_device", device.id, "enrol", "name", None, device.name)
    return raw


def revoke_kiosk(kiosk_id: int) -> None:
    with transaction() as s:
        device = s.get(KioskDevice, kiosk_id)
        if device is None:
            raise NotFound()
        if device.revoked_at is None:
            device.revoked_at = utcnow()
            audit.record(s, "kiosk_device", device.id, "revoke", "name", device.name, None)


def create_token(user_id: int, name: str, days: int | None = None) -> str:
    """A new API token; the raw value is shown once and only its digest is kept."""
    raw = new_token("mes")
    with transaction() as s:
        if s.get(User, user_id) is None:
            raise NotFound()
        expires = utcnow() + dt.timedelta(days=days) if days else None
        s.add(ApiToken(user_id=user_id, name=name or "token", prefix=raw[:10], digest=digest(raw), expires_at=expires))
    return raw


def revoke_token(token_id: int) -> None:
    with transaction() as s:
        token = s.get(ApiToken, token_id)
        if token is None:
            raise NotFound()
        if token.revoked_at is None:
            token.revoked_at = utcnow()


# --- plant setup: first run ------------------------------------------------------------------------


@dataclass
class FirstRunInput:
    plant_name: str
    timezone: str
    locale: str
    username: str
    display_name: str
    password: str
    repeat: str


def first_run(data: FirstRunInput) -> dict[str, str]:
    """A new plant: its settings and the first administrator, together or not at all. Refused
    (404) once any user exists, so the page cannot be used to take over a running plant."""
    errors: dict[str, list] = {}
    if not data.plant_name.strip():
        errors["plant_name"] = [_l("This field is required.")]
    elif len(data.plant_name.strip()) > 120:
        errors["plant_name"] = [_l("At most %(n)s characters.", n=120)]
    if data.timezone not in settings.timezones():
        errors["timezone"] = [_l("Choose a time zone from the list.")]
    if data.locale not in ("en", "zh_CN"):
        errors["locale"] = [_l("Choose a language from the list.")]
    if not data.username.strip():
        errors["username"] = [_l("This field is required.")]
    elif len(data.username.strip()) > 64:
        errors["username"] = [_l("At most %(n)s characters.", n=64)]
    if not data.display_name.strip():
        errors["display_name"] = [_l("This field is required.")]
    if len(data.password) < 8:
        errors["password"] = [_l("At least 8 characters.")]
    elif data.password != data.repeat:
        errors["repeat"] = [_l("The passwords differ.")]
    with transaction() as s:
        if s.scalar(select(func.count()).select_from(User)):
            raise NotFound()
        if errors:
            raise ValidationError(fields=errors)
        user = User(username="", display_name="", session_version=1)
        _apply(user, UserInput(username=data.username, display_name=data.display_name, roles=[Role.ADMIN],
                               password=data.password, locale=data.locale))
        s.add(user)
        values = {"plant_name": data.plant_name.strip(), "timezone": data.timezone, "locale": data.locale}
        settings.store(s, values)
    return values
