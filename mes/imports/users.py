"""Importing the plant's users: each row is matched by username, so a file creates new users and
updates existing ones. Rows go through the administrator's own services (hashing, keyed badge
digests, uniqueness); passwords are never imported, and an empty badge or PIN cell keeps the
user's one. The preview never shows a secret, only whether it is set."""
from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mes.admin import services as admin
from mes.core.errors import DomainError
from mes.core.models import Role, User
from mes.core.security import identifier
from mes.imports.cells import CellError, parse_bool, text_of
from mes.imports.reading import Table
from mes.imports.results import RowError
from mes.imports.rows import RowErrors

ROLE_NAMES = {
    **{role.value: role for role in Role},
    "操作工": Role.WORKER, "工人": Role.WORKER, "员工": Role.WORKER, "计划员": Role.PLANNER, "计划": Role.PLANNER,
    "质检": Role.QUALITY, "质检员": Role.QUALITY, "质量": Role.QUALITY, "老板": Role.OWNER, "厂长": Role.OWNER,
    "管理员": Role.ADMIN,
}
LANGUAGES = {"en": "en", "english": "en", "英文": "en", "zh_cn": "zh_CN", "zh-cn": "zh_CN", "zh": "zh_CN", "中文": "zh_CN"}
USERNAME = re.compile(r"^[\w.@-]+$")
PIN = re.compile(r"^\d{4,8}$")
FIELD_COLUMNS = {"username": "username", "display_name": "display_name", "roles": "roles", "employee_no": "employee_no",
                 "badge": "badge", "pin": "pin", "locale": "language", "active": "active"}


def _roles(raw: str) -> list[Role] | None:
    names = [n.strip().lower() for n in re.split(r"[,，;；、/\s]+", raw) if n.strip()]
    roles = [ROLE_NAMES.get(n) for n in names]
    if any(r is None for r in roles):
        return None
    return sorted(set(roles))  # type: ignore[arg-type]


def _shown_roles(roles: Any) -> str:
    return ", ".join(sorted(str(r) for r in roles))


def apply(s: Session, table: Table) -> tuple[list[RowError], list[dict[str, Any]]]:
    """Create or update every row's user in ``s`` (the caller commits or rolls back): the problems
    by row and column, and a line per user saying what happens to it (secrets as set/unchanged)."""
    errors: list[RowError] = []
    lines: list[dict[str, Any]] = []
    seen: dict[str, dict[str, int]] = {"username": {}, "employee_no": {}, "badge": {}}
    present = table.headers
    for row_no, row in table.rows:
        row_errors = RowErrors(table, row_no, errors)
        username = text_of(row.get("username"))
        display_name = text_of(row.get("display_name"))
        employee_no = text_of(row.get("employee_no"))
        badge = text_of(row.get("badge"))
        pin = text_of(row.get("pin"))
        if not username:
            row_errors.add("username", _l("This field is required."))
        elif len(username) > 64:
            row_errors.add("username", _l("At most %(n)s characters.", n=64))
        elif not USERNAME.match(username):
            row_errors.add("username", _l("Letters, digits and . _ - @ only."))
        if not display_name:
            row_errors.add("display_name", _l("This field is required."))
        elif len(display_name) > 120:
            row_errors.add("display_name", _l("At most %(n)s characters.", n=120))
        roles = _roles(text_of(row.get("roles")))
        if roles is None:
            row_errors.add("roles", _l("Unknown role; enter worker, planner, quality, owner or admin."))
        if len(employee_no) > 32:
            row_errors.add("employee_no", _l("At most %(n)s characters.", n=32))
        if badge and not 4 <= len(badge) <= 128:
            row_errors.add("badge", _l("A badge code has 4 to 128 characters."))
        if pin and not PIN.match(pin):
            row_errors.add("pin", _l("4 to 8 digits."))
        language = text_of(row.get("language"))
        locale = LANGUAGES.get(language.lower()) if language else None
        if language and locale is None:
            row_errors.add("language", _l("Enter en or zh_CN."))
        try:
            active = parse_bool(row.get("active")) if text_of(row.get("active")) else True
        except CellError as exc:
            row_errors.add("active", exc.message)
            active = True
        for key, value in (("username", username), ("employee_no", employee_no), ("badge", badge)):
            folded = identifier(value) if key != "badge" else value
            if value and folded in seen[key]:
                row_errors.add(key, _l("The same value is already in row %(row)s.", row=seen[key][folded]))
            elif value:
                seen[key][folded] = row_no
        if row_errors.columns:
            continue
        user = s.scalar(select(User).where(func.lower(User.username) == identifier(username)))
        data = admin.UserInput(
            username=username, display_name=display_name, roles=roles or [],
            employee_no=(employee_no or None) if "employee_no" in present or user is None else user.employee_no,
            badge=badge or None, pin=pin or None,
            locale=locale if "language" in present or user is None else user.locale,
            active=active if "active" in present or user is None else user.active)
        secrets = {"badge": "set" if badge else "unchanged", "pin": "set" if pin else "unchanged"}
        try:
            with s.begin_nested():
                if user is None:
                    admin.create_user_in(s, data)
                    lines.append({"code": identifier(username), "name": display_name, "action": "create",
                                  "changes": _secret_changes(secrets), **secrets})
                    continue
                before = _snapshot(user)
                admin.update_user_in(s, user.id, data)
                changes = [f"{name}: {old or '—'} → {new or '—'}" for name, (old, new)
                           in ((k, (before[k], v)) for k, v in _snapshot(user).items()) if old != new]
                changes += _secret_changes(secrets)
                lines.append({"code": user.username, "name": display_name, "action": "update", "changes": changes, **secrets})
        except DomainError as exc:
            if exc.fields:
                row_errors.add_fields(exc.fields, FIELD_COLUMNS)
            else:
                row_errors.add("username", exc.text())
    return errors, lines


def _secret_changes(secrets: dict[str, str]) -> list[str]:
    """Only whether a badge or PIN is written, never its value."""
    labels = {"badge": _l("badge"), "pin": _l("PIN")}
    return [f"{labels[name]}: {_l('set')}" for name in ("badge", "pin") if secrets[name] == "set"]


def _snapshot(user: User) -> dict[str, str]:
    return {"display_name": user.display_name, "roles": _shown_roles(Role(r.role).value for r in user.role_rows),
            "employee_no": user.employee_no or "", "language": user.locale or "", "active": str(user.active)}
