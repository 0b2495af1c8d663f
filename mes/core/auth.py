"""Who may do what: roles grant permissions, views declare the permission they need, and record
policies decide per object. Every endpoint must declare its access: an undeclared one is refused."""
from __future__ import annotations

import enum
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, request, session as flask_session
from flask_login import AnonymousUserMixin, LoginManager, current_user, logout_user

from mes.core import audit, sessions
from mes.core.db import session as db_session
from mes.core.errors import Forbidden
from mes.core.models import Role, User

F = TypeVar("F", bound=Callable[..., Any])


class Permission(enum.StrEnum):
    VIEW_PLANT = "view_plant"  # machines, work centers, products: read
    VIEW_ORDERS = "view_orders"
    EDIT_ORDERS = "edit_orders"
    VIEW_ROUTINGS = "view_routings"
    EDIT_ROUTINGS = "edit_routings"
    VIEW_SCHEDULE = "view_schedule"  # the plans and their figures: read
    SCHEDULE = "schedule"  # run the scheduler, publish a plan
    SHOPFLOOR = "shopfloor"
    QUALITY = "quality"
    REPORTS = "reports"
    AUDIT = "audit"
    ADMIN = "admin"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.WORKER: frozenset({Permission.SHOPFLOOR}),
    Role.PLANNER: frozenset(
        {
            Permission.VIEW_PLANT,
            Permission.VIEW_ORDERS,
            Permission.EDIT_ORDERS,
            Permission.VIEW_ROUTINGS,
            Permission.EDIT_ROUTINGS,
            Permission.VIEW_SCHEDULE,
            Permission.SCHEDULE,
            Permission.REPORTS,
        }
    ),
    Role.QUALITY: frozenset(
        {Permission.VIEW_PLANT, Permission.VIEW_ORDERS, Permission.VIEW_ROUTINGS, Permission.QUALITY}
    ),
    Role.OWNER: frozenset(
        {Permission.VIEW_PLANT, Permission.VIEW_ORDERS, Permission.VIEW_ROUTINGS, Permission.VIEW_SCHEDULE,
         Permission.REPORTS, Permission.AUDIT}
    ),
    Role.ADMIN: frozenset(
        {Permission.VIEW_PLANT, Permission.VIEW_ORDERS, Permission.VIEW_ROUTINGS, Permission.AUDIT, Permission.ADMIN}
    ),
}


def permissions_of(user: User | AnonymousUserMixin | None) -> frozenset[Permission]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return frozenset()
    perms: set[Permission] = set()
    for role in user.roles:
        perms |= ROLE_PERMISSIONS[role]
    return frozenset(perms)


def can(permission: Permission, user: Any = None) -> bool:
    return permission in permissions_of(user if user is not None else current_principal())


def current_principal() -> Any:
    """The API token's user inside the API, the logged-in user elsewhere."""
    if "api_user" in g:
        return g.api_user
    return current_user


# --- per-object policies ------------------------------------------------------------------------

_policies: dict[tuple[type, str], Callable[[Any, Any], bool]] = {}


def policy(model: type, action: str) -> Callable[[F], F]:
    """Register ``fn(user, obj) -> bool`` deciding ``action`` on one record of ``model``."""

    def register(fn: F) -> F:
        _policies[(model, action)] = fn
        return fn

    return register


def authorize(action: str, obj: Any, permission: Permission) -> None:
    """Refuse with 403 unless the principal has ``permission`` and the object's policy agrees."""
    user = current_principal()
    if permission not in permissions_of(user):
        raise Forbidden()
    check = _policies.get((type(obj), action))
    if check is not None and not check(user, obj):
        raise Forbidden()


# --- endpoint access declarations ---------------------------------------------------------------

_PUBLIC = "public"
_LOGIN = "login"


def requires(*permissions: Permission) -> Callable[[F], F]:
    """The view needs one of these permissions."""

    def mark(fn: F) -> F:
        fn.__mes_access__ = frozenset(permissions)  # type: ignore[attr-defined]
        return fn

    return mark


def public(fn: F) -> F:
    """The view is open to anyone (login pages, health check, static files)."""
    fn.__mes_access__ = _PUBLIC  # type: ignore[attr-defined]
    return fn


def login_required(fn: F) -> F:
    """The view needs a logged-in user of any role."""
    fn.__mes_access__ = _LOGIN  # type: ignore[attr-defined]
    return fn


def access_of(app: Flask, endpoint: str) -> Any:
    view = app.view_functions.get(endpoint)
    access = getattr(view, "__mes_access__", None)
    if access is None and view is not None and hasattr(view, "view_class"):
        access = getattr(view.view_class, "__mes_access__", None)
    if access is None and (endpoint == "static" or endpoint.endswith(".static") or endpoint.startswith("api-docs.")):
        return _PUBLIC  # static files and the OpenAPI document
    return access


KIOSK_SESSION = "mes_kiosk_login"
LAST_SEEN = "mes_last_seen"


def end_idle_kiosk_session() -> None:
    """``before_request``: shop-floor sessions end after inactivity, so the next worker at a shared
    tablet never acts as the last one. Also names the actor of this request for the audit log."""
    g.pop("mes_kiosk", None)
    if flask_session.get(KIOSK_SESSION) and current_user.is_authenticated:
        if time.time() - flask_session.get(LAST_SEEN, 0) > current_app.config["KIOSK_IDLE_SECONDS"]:
            sessions.end(flask_session.get(sessions.SESSION_KEY))
            logout_user()
            flask_session.pop(KIOSK_SESSION, None)
    if current_user.is_authenticated:
        # The terminal's own "am I still logged in" poll must not count as activity.
        if request.endpoint != "core.session_state":
            flask_session[LAST_SEEN] = time.time()
        audit.set_actor(audit.Actor(current_user.id, current_user.username))
    else:
        audit.set_actor(audit.SYSTEM)


def check_request_access() -> Any:
    """``before_request``: enforce the endpoint's declared access (default deny)."""
    if request.endpoint is None:
        return None  # 404/405 follow
    access = access_of(current_app, request.endpoint)
    if access == _PUBLIC:
        return None
    if isinstance(access, tuple) and access[0] == "token":
        return None  # API views authenticate their bearer token themselves (mes.core.api)
    if access is None:
        current_app.logger.error("endpoint %s declares no access rule; refused", request.endpoint)
        abort(403)
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if access == _LOGIN:
        return None
    if not access & permissions_of(current_user):
        abort(403)
    return None


def init_app(app: Flask) -> LoginManager:
    manager = LoginManager(app)
    manager.login_view = "core.login"
    manager.login_message = None  # the login page explains itself
    manager.session_protection = "basic"
    manager.anonymous_user = Anonymous

    @manager.user_loader
    def load_user(token: str) -> User | None:
        try:
            user_id, version = (int(x) for x in token.split(":"))
        except ValueError:
            return None
        user = db_session().get(User, user_id)
        if user is None or not user.active or user.session_version != version:
            return None
        # The session must still exist server-side: logging out ends every copy of the cookie.
        if not sessions.is_valid(flask_session.get(sessions.SESSION_KEY), user_id):
            return None
        return user

    app.before_request(end_idle_kiosk_session)
    app.before_request(check_request_access)

    @app.teardown_request
    def _forget_actor(_exc: BaseException | None) -> None:
        # The thread serves other requests (and jobs) next: none of them acts as this user.
        audit.set_actor(audit.SYSTEM)
    return manager


class Anonymous(AnonymousUserMixin):
    active = False
    roles: frozenset[Role] = frozenset()

    def has_role(self, *roles: Role) -> bool:
        return False
