"""Administration pages: users, kiosk devices, API tokens, audit log."""
from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from mes.admin import audit_log, services
from mes.admin.forms import KioskForm, TokenForm, UserForm
from mes.core import settings
from mes.core.auth import Permission, public, requires
from mes.core.db import session
from mes.core.clock import day_end, day_start
from mes.core.errors import DomainError, NotFound, ValidationError
from mes.core.forms import parse_date
from mes.core.kiosk import current_kiosk, set_cookie
from mes.core.models import ApiToken, AuditEntry, KioskDevice, Role, User
from mes.core.inputs import MAX_PAGE, query_int, query_text
from mes.core.web import hx_redirect, render
from mes.machines.models import WorkCenter

bp = Blueprint("admin", __name__, url_prefix="/admin")
#: The first-run page of a new plant, reachable only while no user exists.
setup_bp = Blueprint("setup", __name__)


def _user_input(form: UserForm) -> services.UserInput:
    return services.UserInput(
        username=form.username.data or "",
        display_name=form.display_name.data or "",
        roles=[Role(r) for r in form.roles.data or []],
        employee_no=(form.employee_no.data or "").strip() or None,
        password=form.password.data or None,
        badge=form.badge.data or None,
        pin=form.pin.data or None,
        locale=form.locale.data or None,
        active=bool(form.active.data),
    )


def _apply_errors(form: UserForm, exc: DomainError) -> None:
    for field, errors in exc.fields.items():
        if hasattr(form, field):
            getattr(form, field).errors = [str(e) for e in errors]


@bp.route("/users")
@requires(Permission.ADMIN)
def users() -> Response:
    rows = session().scalars(select(User).order_by(User.username)).all()
    return render("admin/users.html", users=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Permission.ADMIN)
def new_user() -> Response:
    form = UserForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.create_user(_user_input(form))
            return hx_redirect(url_for("admin.users"))
        except DomainError as exc:
            _apply_errors(form, exc)
            status = exc.status
    elif form.errors:
        status = 422
    return render("admin/user_form.html", "admin/_user_form.html", status=status, form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires(Permission.ADMIN)
def edit_user(user_id: int) -> Response:
    user = session().get(User, user_id)
    if user is None:
        raise NotFound()
    form = UserForm(obj=user) if request.method == "GET" else UserForm()
    if request.method == "GET":
        form.roles.data = sorted(r.value for r in user.roles)
        form.locale.data = user.locale or ""
        form.password.data = form.badge.data = form.pin.data = None
    status = 200
    if form.validate_on_submit():
        try:
            services.update_user(user_id, _user_input(form))
            return hx_redirect(url_for("admin.users"))
        except DomainError as exc:
            _apply_errors(form, exc)
            status = exc.status
    elif form.errors:
        status = 422
    return render("admin/user_form.html", "admin/_user_form.html", status=status, form=form, user=user)


@bp.route("/users/<int:user_id>/logout-everywhere", methods=["POST"])
@requires(Permission.ADMIN)
def logout_everywhere(user_id: int) -> Response:
    services.log_out_everywhere(user_id)
    return hx_redirect(url_for("admin.users"))


def _work_center_choices() -> list[tuple[int, str]]:
    centers = session().scalars(select(WorkCenter).order_by(WorkCenter.code)).all()
    return [(0, _("(none)"))] + [(wc.id, f"{wc.code} {wc.name}") for wc in centers]


@bp.route("/kiosks", methods=["GET", "POST"])
@requires(Permission.ADMIN)
def kiosks() -> Response:
    form = KioskForm()
    form.work_center_id.choices = _work_center_choices()
    status = 200
    if form.validate_on_submit():
        raw = services.enroll_kiosk(form.name.data, form.work_center_id.data or None, current_user.id)
        response = hx_redirect(url_for("admin.kiosks"))
        set_cookie(response, raw)
        return response
    if form.errors:
        status = 422
    devices = session().scalars(select(KioskDevice).order_by(KioskDevice.enrolled_at.desc())).all()
    return render("admin/kiosks.html", status=status, form=form, devices=devices, this_device=current_kiosk())


@bp.route("/kiosks/<int:kiosk_id>/revoke", methods=["POST"])
@requires(Permission.ADMIN)
def revoke_kiosk(kiosk_id: int) -> Response:
    services.revoke_kiosk(kiosk_id)
    return hx_redirect(url_for("admin.kiosks"))


@bp.route("/tokens", methods=["GET", "POST"])
@requires(Permission.ADMIN)
def tokens() -> Response:
    form = TokenForm()
    form.user_id.choices = [(u.id, u.username) for u in session().scalars(select(User).order_by(User.username))]
    new_raw = None
    status = 200
    if form.validate_on_submit():
        new_raw = services.create_token(form.user_id.data, form.name.data, form.days.data)
    elif form.errors:
        status = 422
    rows = session().scalars(select(ApiToken).order_by(ApiToken.created_at.desc())).all()
    return render("admin/tokens.html", status=status, form=form, tokens=rows, new_token=new_raw)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@requires(Permission.ADMIN)
def revoke_token(token_id: int) -> Response:
    services.revoke_token(token_id)
    return hx_redirect(url_for("admin.tokens"))


PAGE_SIZE = 50


@bp.route("/audit")
@requires(Permission.AUDIT)
def audit() -> Response:
    errors: dict[str, list] = {}
    entity = query_text("entity", max_length=64)
    entity_id = query_int("entity_id")
    user_id = query_int("user")
    date_from = parse_date(request.args.get("date_from"), "date_from", errors)
    date_to = parse_date(request.args.get("date_to"), "date_to", errors)
    if errors:
        raise ValidationError(fields=errors)
    page = query_int("page", 1, max=MAX_PAGE) or 1
    s = session()
    query = select(AuditEntry)
    if entity == "work_order" and entity_id:
        query = query.where(audit_log.order_history(s, entity_id))  # with its operations and their machines
    else:
        if entity:
            query = query.where(AuditEntry.entity == entity)
        if entity_id:
            query = query.where(AuditEntry.entity_id == entity_id)
    if user_id:
        query = query.where(AuditEntry.user_id == user_id)
    if date_from:
        query = query.where(AuditEntry.at >= day_start(date_from))
    if date_to:
        query = query.where(AuditEntry.at < day_end(date_to))
    total = s.scalar(select(func.count()).select_from(query.subquery()))
    entries = s.scalars(query.order_by(AuditEntry.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    reader = audit_log.Reader(s)
    args = {k: v for k, v in request.args.items() if k != "page" and v}

    def page_url(n: int) -> str:
        return url_for("admin.audit", page=n, **args)

    return render(
        "admin/audit.html", "admin/_audit_rows.html", rows=[reader.row(e) for e in entries], total=total, page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), page_url=page_url, entity=entity, entity_id=entity_id,
        user_id=user_id, date_from=date_from, date_to=date_to, record_types=audit_log.sorted_record_types(),
        users=s.scalars(select(User).order_by(User.display_name)).all(),
    )


# --- plant setup: first run ------------------------------------------------------------------------


@setup_bp.app_context_processor
def _first_run_context() -> dict:
    return {"first_run_open": lambda: not settings.has_users()}


@setup_bp.route("/setup", methods=["GET", "POST"])
@public
def first_run() -> Response:
    """Plant name, time zone, default language and the first administrator; no demo data."""
    if settings.has_users():
        raise NotFound()
    config = current_app.config
    values = {"plant_name": "" if config["PLANT_NAME"] == "Demo Plant" else config["PLANT_NAME"],
              "timezone": config["PLANT_TIMEZONE"], "locale": config["BABEL_DEFAULT_LOCALE"]}
    errors: dict = {}
    status = 200
    if request.method == "POST":
        form = request.form
        values = {name: form.get(name, "") for name in ("plant_name", "timezone", "locale", "username", "display_name")}
        try:
            stored = services.first_run(services.FirstRunInput(
                plant_name=form.get("plant_name", ""), timezone=form.get("timezone", ""), locale=form.get("locale", ""),
                username=form.get("username", ""), display_name=form.get("display_name", ""),
                password=form.get("password", ""), repeat=form.get("repeat", "")))
        except ValidationError as exc:
            errors, status = exc.fields, 422
        else:
            settings.apply(_app(), stored)
            return hx_redirect(url_for("core.login", welcome=1))
    return render("admin/first_run.html", status=status, values=values, errors=errors, timezones=settings.timezones())


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]
