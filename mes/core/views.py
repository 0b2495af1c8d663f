"""Login (office password, shop-floor badge or PIN), logout, language, account, health."""
from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import text

from mes.core import auth, services, sessions
from mes.core.auth import login_required, public
from mes.core.db import get_db
from mes.core.forms import BadgeForm, LocaleForm, LoginForm, PasswordChangeForm, PinForm
from mes.core.i18n import normalize
from mes.core.kiosk import current_kiosk
from mes.core.errors import DomainError
from mes.core.web import htmx, hx_redirect, is_api_request, render, safe_target

bp = Blueprint("core", __name__)

KIOSK_SESSION = auth.KIOSK_SESSION
LAST_SEEN = auth.LAST_SEEN


def _device_key() -> str:
    kiosk = current_kiosk()
    return f"kiosk:{kiosk.id}" if kiosk else f"ip:{request.remote_addr}"


def _finish_login(user: Any, kiosk_login: bool) -> Response:
    locale = session.get("locale")  # the language chosen before logging in stays
    session.clear()  # no session fixation; a new CSRF secret comes with the new session
    if locale:
        session["locale"] = locale
    login_user(user)
    session[sessions.SESSION_KEY] = sessions.start(user.id)
    session[KIOSK_SESSION] = kiosk_login
    session[LAST_SEEN] = time.time()
    return hx_redirect(safe_target(request.args.get("next"), url_for(services.home_endpoint(user))))


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Response:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = services.login_with_password(form.username.data, form.password.data, _device_key())
        except DomainError as exc:
            error = exc.text()
            status = exc.status
        else:
            return _finish_login(user, kiosk_login=False)
        return render("core/login.html", "core/_login_form.html", status=status, form=form, error=error)
    status = 422 if form.errors else 200
    return render("core/login.html", "core/_login_form.html", status=status, form=form, error=error)


@bp.route("/floor/login", methods=["GET", "POST"])
@public
def kiosk_login() -> Response:
    """The shared tablet's login: a badge scan (the scanner types the code and Enter) or a PIN."""
    badge_form = BadgeForm(prefix="badge")
    pin_form = PinForm(prefix="pin")
    kiosk = current_kiosk()
    error = None
    status = 200
    if request.method == "POST":
        try:
            if "badge-badge" in request.form:
                if badge_form.validate_on_submit():
                    user = services.login_with_badge(badge_form.badge.data, _device_key())
                    return _finish_login(user, kiosk_login=True)
            elif pin_form.validate_on_submit():
                user = services.login_with_pin(pin_form.employee_no.data, pin_form.pin.data, kiosk)
                return _finish_login(user, kiosk_login=True)
            status = 422
        except DomainError as exc:
            error, status = exc.text(), exc.status
    return render(
        "core/kiosk_login.html", "core/_kiosk_login_forms.html", status=status,
        badge_form=badge_form, pin_form=pin_form, kiosk=kiosk, error=error,
    )


@bp.route("/logout", methods=["POST"])
@public
def logout() -> Response:
    # An enrolled tablet goes back to its own login screen whoever logged out (an admin too).
    was_kiosk = session.get(KIOSK_SESSION) or current_kiosk() is not None
    # Server-side: a copy of this cookie must not stay logged in.
    sessions.end(session.get(sessions.SESSION_KEY))
    logout_user()
    session.clear()
    return hx_redirect(url_for("core.kiosk_login" if was_kiosk else "core.login"))


@bp.route("/session")
@public
def session_state() -> Response:
    """Polled by shop-floor pages so an idle terminal returns to its login screen by itself."""
    return jsonify(authenticated=bool(current_user.is_authenticated))


@bp.route("/csrf-token")
@public
def csrf_token() -> Response:
    return jsonify(token=generate_csrf())


@bp.route("/locale", methods=["POST"])
@public
def set_locale() -> Response:
    form = LocaleForm()
    if form.validate_on_submit() and (locale := normalize(form.locale.data)):
        session["locale"] = locale
        if current_user.is_authenticated:
            services.set_locale(current_user.id, locale)
    referrer = request.referrer or ""
    back = "/" + referrer[len(request.host_url):] if referrer.startswith(request.host_url) else None
    return hx_redirect(safe_target(back, url_for("reports.overview")))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> Response:
    form = PasswordChangeForm()
    message = None
    status = 200
    if form.validate_on_submit():
        try:
            services.change_password(current_user.id, form.current.data, form.new.data)
        except DomainError as exc:
            for field, errors in exc.fields.items():
                getattr(form, field).errors = [str(e) for e in errors]
            status = exc.status
        else:
            logout_user()
            session.clear()
            return hx_redirect(url_for("core.login"))
    elif form.errors:
        status = 422
    return render("core/account.html", "core/_password_form.html", status=status, form=form, message=message)


@bp.route("/healthz")
@public
def healthz() -> Response:
    db = get_db()
    try:
        with db.engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        state = {"status": "ok", "database": db.dialect, "revision": revision}
        code = 200
    except Exception as exc:  # the health check reports any database failure rather than raising
        state = {"status": "error", "database": db.dialect, "error": exc.__class__.__name__}
        code = 503
    return jsonify(state), code


@bp.app_context_processor
def _forms() -> dict[str, Any]:
    return {"locale_form": LocaleForm, "is_kiosk_session": lambda: bool(session.get(KIOSK_SESSION))}


def _unauthorized() -> Response:
    """Not logged in: the right login page, also for htmx requests (which cannot follow a 302)."""
    kiosk = request.path.startswith("/floor") or current_kiosk() is not None
    target = url_for("core.kiosk_login" if kiosk else "core.login", next=request.full_path if request.method == "GET" else None)
    if is_api_request():
        return jsonify(code="unauthorized", message=_("Please log in.")), 401
    if htmx:
        response = Response("", 401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


@bp.record_once
def _install_unauthorized(state: Any) -> None:
    state.app.login_manager.unauthorized_handler(_unauthorized)
