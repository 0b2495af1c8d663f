"""Import pages: upload a routing or work order file, check it (a dry run that lists every row's
problem and saves nothing), then import it in one transaction; templates to download."""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request, send_file
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from mes.core.auth import Permission, can, requires
from mes.core.errors import Forbidden, NotFound, ValidationError
from mes.core.web import render, wants_fragment
from mes.imports import reading, services, templates
from mes.imports.columns import COLUMNS, MASTER_KINDS, Kind
from mes.imports.reading import UploadRefused
from mes.imports.results import ImportResult, RowError
from mes.orders.models import Priority, WorkOrderStatus
from mes.routing.models import RoutingStatus

bp = Blueprint("imports", __name__, url_prefix="/import")

MIMETYPES = {
    "csv": "text/csv",  # Werkzeug adds "; charset=utf-8" to text types itself
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def allowed_kinds() -> list[Kind]:
    return [k for k in Kind if can(k.permission)]


def require_kind(raw: str | None) -> Kind:
    """The kind asked for, if the user may import it (a planner may edit orders but not routings)."""
    try:
        kind = Kind(raw or "")
    except ValueError:
        raise ValidationError(fields={"kind": [_l("Choose what to import.")]}) from None
    if not can(kind.permission):
        raise Forbidden()
    return kind


def uploaded() -> tuple[str, bytes] | None:
    """The file's name and content; None when no file was chosen."""
    upload = request.files.get("file")
    if upload is None:
        return None
    data = upload.read()
    if not upload.filename and not data:
        return None
    return upload.filename or "", data


def no_file(kind: Kind) -> ImportResult:
    return ImportResult(kind, errors=[RowError(None, "file", str(_l("Choose a file to import.")))])


def refused(kind: Kind, exc: UploadRefused) -> ImportResult:
    """A file refused unread, shown where every other problem of a file is shown."""
    return ImportResult(kind, errors=[exc.row_error()])


def _labels() -> dict[str, str]:
    labels = {s.value: s.label for s in WorkOrderStatus}
    labels.update({s.value: s.label for s in RoutingStatus})
    labels.update({p.value: p.label for p in Priority})
    return labels


def _page(kind: Kind, result: ImportResult | None = None, release: bool = False, status: int = 200,
          full_only: bool = False) -> Response:
    context: dict[str, Any] = dict(kinds=allowed_kinds(), kind=kind, release=release, result=result,
                                   columns=COLUMNS, labels=_labels(), max_rows=reading.MAX_ROWS,
                                   oob=not full_only and wants_fragment())
    return render("imports/page.html", None if full_only else "imports/_result.html", status=status, **context)


@bp.route("/")
@requires(Permission.EDIT_ROUTINGS, Permission.EDIT_ORDERS, Permission.ADMIN)
def page() -> Response:
    kinds = allowed_kinds()
    wanted = request.args.get("kind")
    kind = next((k for k in kinds if k.value == wanted), None) or (Kind.ROUTINGS if Kind.ROUTINGS in kinds else kinds[0])
    return _page(kind, full_only=True)


def _submitted(step: Callable[..., ImportResult], status_of: Callable[[ImportResult], int]) -> Response:
    """The posted file through ``step`` (a dry run or the import), drawn on the import page."""
    kind = require_kind(request.form.get("kind"))
    release = bool(request.form.get("release"))
    upload = uploaded()
    if upload is None:
        return _page(kind, no_file(kind), release, status=422)
    try:
        result = step(kind, *upload, release=release)
    except UploadRefused as exc:
        return _page(kind, refused(kind, exc), release, status=exc.status)
    return _page(kind, result, release, status=status_of(result))


@bp.route("/preview", methods=["POST"])
@requires(Permission.EDIT_ROUTINGS, Permission.EDIT_ORDERS, Permission.ADMIN)
def preview() -> Response:
    return _submitted(services.preview, lambda result: 200)


@bp.route("/run", methods=["POST"])
@requires(Permission.EDIT_ROUTINGS, Permission.EDIT_ORDERS, Permission.ADMIN)
def run() -> Response:
    return _submitted(services.run, lambda result: 200 if result.valid else 422)


@bp.route('/template/<any(calendars, "work-centers", machines, families, products, routings, "work-orders"):kind>.<any(csv, xlsx):fmt>')
@requires(Permission.EDIT_ROUTINGS, Permission.EDIT_ORDERS)
def template(kind: str, fmt: str) -> Response:
    """A file with the header row and example rows, headers in the user's language."""
    chosen = require_kind(kind)
    locale = get_locale()
    body = templates.template_file(chosen, fmt, chinese=bool(locale and locale.language == "zh"))
    return send_file(io.BytesIO(body), mimetype=MIMETYPES[fmt], as_attachment=True,
                     download_name=f"{chosen.value}-template.{fmt}", max_age=0)


@bp.route('/export/<any(calendars, "work-centers", machines, families, products, routings, "work-orders"):kind>'
          '.<any(csv, xlsx):fmt>')
@requires(Permission.EDIT_ROUTINGS, Permission.EDIT_ORDERS)
def export(kind: str, fmt: str) -> Response:
    """The plant's records in the import template's columns, to edit in Excel and import again
    (master data only: routings and orders are not exported this way)."""
    chosen = require_kind(kind)
    if chosen not in MASTER_KINDS:
        raise NotFound()
    locale = get_locale()
    body = templates.export_file(chosen, fmt, chinese=bool(locale and locale.language == "zh"))
    return send_file(io.BytesIO(body), mimetype=MIMETYPES[fmt], as_attachment=True,
                     download_name=f"{chosen.value}.{fmt}", max_age=0)


@bp.route("/template/users.<any(csv, xlsx):fmt>")
@requires(Permission.ADMIN)
def users_template(fmt: str) -> Response:
    """The users' template (an administrator's import, apart from the plant's kinds)."""
    return template("users", fmt)


@bp.route("/export/users.<any(csv, xlsx):fmt>")
@requires(Permission.ADMIN)
def users_export(fmt: str) -> Response:
    """The plant's users in the template's columns, without badges, PINs or passwords."""
    return export("users", fmt)
