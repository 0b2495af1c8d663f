"""Quality pages: the inspection panel of the terminal's operation card (due checks, keypad,
limits, pass/fail at once), and the pages of quality staff (alerts, nonconformances, analysis)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, request, url_for
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from mes.core.auth import Permission, authorize, can, requires
from mes.core.db import session, utcnow
from mes.core.errors import NotFound, ValidationError
from mes.core.i18n import format_moment
from mes.core.inputs import form_int, query_int, to_int
from mes.core.web import form_version, hx_redirect, notify, render
from mes.machines.models import Reason, ReasonKind
from mes.orders.models import Operation, ProductionReport, WorkOrder
from mes.quality import analysis, charts, inspections, report, services
from mes.quality.models import Disposition, InspectionResult, NcrStatus

bp = Blueprint("quality", __name__, url_prefix="/quality")


def _key() -> str | None:
    return (request.form.get("request_key") or request.headers.get("Idempotency-Key") or "").strip() or None


# --- the terminal's inspection panel ---------------------------------------------------------------


def _floor_operation(operation_id: int) -> Operation:
    op = session().get(Operation, operation_id)
    if op is None:
        raise NotFound()
    authorize("view_on_floor", op, Permission.SHOPFLOOR)
    return op


def _panel(operation_id: int, **context: Any) -> Response:
    session().rollback()  # see what this request's own transaction committed
    _floor_operation(operation_id)
    op, due, blocking = inspections.due_on(operation_id)
    return render("quality/floor_inspections.html", "quality/_floor_inspections.html", op=op, order=op.work_order,
                  due=due, blocking=blocking, **context)


@bp.route("/floor/operations/<int:operation_id>/inspections")
@requires(Permission.SHOPFLOOR)
def floor_inspections(operation_id: int) -> Response:
    """The inspections due on the operation now (the card loads this panel)."""
    return _panel(operation_id)


@bp.route("/floor/operations/<int:operation_id>/inspections", methods=["POST"])
@requires(Permission.SHOPFLOOR)
def record_inspection(operation_id: int) -> Response:
    """Record one due inspection; a value far off is asked again before it is saved."""
    _floor_operation(operation_id)
    form = request.form
    passed_raw = form.get("passed")
    data = inspections.ResultInput(
        characteristic_id=to_int(form.get("characteristic_id")), frequency=form.get("frequency"),
        sample_no=to_int(form.get("sample_no")), value=form.get("value") if "value" in form else None,
        passed=None if passed_raw is None else passed_raw == "1", defect=form.get("defect"),
        confirmed=form.get("confirmed") == "1",
    )
    try:
        result = inspections.record(current_user.id, _key(), operation_id, data)
    except inspections.Implausible as exc:
        return _panel(operation_id, confirm={"text": exc.text(), "characteristic_id": data.characteristic_id,
                                             "frequency": data.frequency, "sample_no": data.sample_no,
                                             "value": data.value})
    return _panel(operation_id, result=result)


# --- quality staff ---------------------------------------------------------------------------------


@bp.route("/")
@requires(Permission.QUALITY)
def overview() -> Response:
    """What needs quality's attention: operations held by their first article, failed
    inspections and scrap without a nonconformance yet."""
    locale = str(get_locale() or "en")
    scrap_names = {r.code: r.name(locale) for r in session().scalars(select(Reason).where(Reason.kind == ReasonKind.SCRAP))}
    return render("quality/overview.html", alerts=inspections.first_article_alerts(),
                  failed=services.failed_results(), scrap=services.unraised_scrap(), scrap_names=scrap_names)


# --- nonconformances -------------------------------------------------------------------------------


@bp.route("/ncrs/")
@requires(Permission.QUALITY)
def ncrs() -> Response:
    status = request.args.get("status")
    chosen = NcrStatus(status) if status in {s.value for s in NcrStatus} else None
    return render("quality/ncrs.html", rows=services.ncrs(chosen), status=chosen, statuses=list(NcrStatus))


def _new_context() -> dict:
    result = session().get(InspectionResult, query_int("result") or form_int("result") or 0)
    report = session().get(ProductionReport, query_int("report") or form_int("report") or 0)
    order = session().get(WorkOrder, query_int("order") or form_int("order") or 0)
    if result is not None:
        order = session().get(WorkOrder, result.work_order_id)
    elif report is not None:
        order = session().get(WorkOrder, report.work_order_id)
    return {"result": result, "report": report, "order": order,
            "operations": services.order_operations(order.id if order else None)}


@bp.route("/ncrs/new", methods=["GET", "POST"])
@requires(Permission.QUALITY, Permission.SHOPFLOOR)
def new_ncr() -> Response:
    """Raise a nonconformance: from a failed inspection (``result``), from scrap (``report``), or
    by hand on a work order; with a photo from the tablet's camera if wanted."""
    context = _new_context()
    if request.method == "GET":
        return render("quality/ncr_new.html", "quality/_ncr_form.html", values={}, errors={}, **context)
    form = request.form
    order = context["order"]
    if order is None and (number := (form.get("order_number") or "").strip()):
        order = session().scalar(select(WorkOrder).where(WorkOrder.number == number[:40]))
        if order is None:
            raise ValidationError(fields={"order_number": [_l("There is no work order %(number)s.", number=number[:40])]})
    upload = request.files.get("photo")
    photo = upload.read() if upload and upload.filename else None
    ncr_id = services.raise_ncr(current_user.id, services.NcrInput(
        work_order_id=order.id if order else None, operation_id=form_int("operation_id"),
        inspection_result_id=context["result"].id if context["result"] else None,
        production_report_id=context["report"].id if context["report"] else None,
        quantity=to_int(form.get("quantity"), min=0, max=10**9), defect=form.get("defect"),
        description=form.get("description"), photo=photo,
    ))
    notify(_l("Nonconformance %(id)s raised.", id=ncr_id))
    if can(Permission.QUALITY):
        return hx_redirect(url_for("quality.ncr", ncr_id=ncr_id))
    op_id = context["result"].operation_id if context["result"] else form_int("operation_id")
    return hx_redirect(url_for("shopfloor.operation", operation_id=op_id) if op_id else url_for("shopfloor.dispatch"))


@bp.route("/ncrs/<int:ncr_id>")
@requires(Permission.QUALITY)
def ncr(ncr_id: int) -> Response:
    return render("quality/ncr.html", "quality/_ncr.html", ncr=services.ncr(ncr_id), dispositions=list(Disposition))


@bp.route("/ncrs/<int:ncr_id>/photo")
@requires(Permission.QUALITY)
def ncr_photo(ncr_id: int) -> Response:
    row = services.ncr(ncr_id)
    if not row.photo:
        raise NotFound()
    response = Response(row.photo, mimetype=row.photo_type or "application/octet-stream")
    response.headers["Content-Disposition"] = f'inline; filename="ncr-{row.id}"'
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/ncrs/<int:ncr_id>/disposition", methods=["POST"])
@requires(Permission.QUALITY)
def dispose(ncr_id: int) -> Response:
    """Quality decides: scrap, rework (a rework operation joins the order's route), use as is
    (with a reason), return to supplier. The report is closed."""
    services.ncr(ncr_id)
    rework_id = services.dispose(current_user.id, ncr_id, form_version(), request.form.get("disposition"),
                                 request.form.get("reason"))
    notify(_l("Rework operation added to the work order.") if rework_id else _l("Disposition saved."))
    session().rollback()
    return ncr(ncr_id)



# --- analysis --------------------------------------------------------------------------------------


@bp.route("/analysis")
@requires(Permission.QUALITY, Permission.REPORTS)
def pareto() -> Response:
    """Scrap or defects by reason, product, machine or week over the last days (a Pareto)."""
    kind = request.args.get("kind") if request.args.get("kind") in analysis.KINDS else "scrap"
    by = request.args.get("by") if request.args.get("by") in analysis.BY else "reason"
    days = query_int("days", 30, max=3660) or 30
    end = utcnow()
    locale = get_locale()
    lang = "zh" if locale and locale.language == "zh" else "en"
    rows = charts.pareto(analysis.counts(kind, by, end - dt.timedelta(days=days), end, lambda r: r.name(lang)))
    return render("quality/pareto.html", rows=rows, picture=charts.pareto_picture(rows), kind=kind, by=by, days=days,
                  total=sum(r.count for r in rows))


@bp.route("/charts/")
@requires(Permission.QUALITY, Permission.REPORTS)
def control_charts() -> Response:
    return render("quality/charts.html", rows=analysis.charted_characteristics())


@bp.route("/charts/<int:characteristic_id>")
@requires(Permission.QUALITY, Permission.REPORTS)
def control_chart(characteristic_id: int) -> Response:
    """A characteristic's control chart (individuals/moving range, or X-bar/R by subgroup) with
    Cp/Cpk; points breaking a Western Electric rule are flagged."""
    data = analysis.control_data(characteristic_id, query_int("subgroup", 1, max=10) or 1)
    main = ranges = None
    if data.chart is not None:
        c, char = data.chart, data.characteristic
        lines = [(c.limits.center, "center"), (c.limits.ucl, "control"), (c.limits.lcl, "control")]
        lines += [(float(v), "spec") for v in (char.lower_limit, char.upper_limit) if v is not None]
        labels = [format_moment(r.recorded_at) for r in data.results] if data.subgroup == 1 else []
        main = charts.chart_picture(c.points, lines, c.flags, labels)
        if c.range_limits is not None:
            ranges = charts.chart_picture(c.range_points, [(c.range_limits.center, "center"), (c.range_limits.ucl, "control")],
                                          {}, height=180)
    return render("quality/chart.html", data=data, main=main, ranges=ranges)


# --- a work order's inspection record ------------------------------------------------------------


def _order(order_id: int) -> WorkOrder:
    order = session().get(WorkOrder, order_id)
    if order is None:
        raise NotFound()
    return order


@bp.route("/orders/<int:order_id>")
@requires(Permission.QUALITY, Permission.VIEW_ORDERS)
def order_record(order_id: int) -> Response:
    """Every inspection of a work order and its nonconformances (printable as PDF)."""
    order = _order(order_id)
    return render("quality/order.html", order=order, results=inspections.results_of_order(order_id),
                  ncrs=services.ncrs_of_order(order_id))


def _limits(c: Any) -> str:
    if c.kind.value != "measured":
        return ", ".join(c.defect_list)
    low = format_decimal(c.lower_limit) if c.lower_limit is not None else "–"
    high = format_decimal(c.upper_limit) if c.upper_limit is not None else "–"
    return f"{low} … {high} {c.unit or ''}".strip()


@bp.route("/orders/<int:order_id>/inspection-report.pdf")
@requires(Permission.QUALITY, Permission.VIEW_ORDERS)
def inspection_report(order_id: int) -> Response:
    order = _order(order_id)
    results = [report.ResultLine(
        operation=f"{r.operation.seq} {r.operation.name}", characteristic=r.characteristic.name,
        occasion=str(r.frequency.label) + (f" #{r.sample_no}" if r.frequency.value == "every_n" else ""),
        value=(format_decimal(r.value) + (f" {r.characteristic.unit}" if r.characteristic.unit else ""))
        if r.value is not None else (r.defect or "–"),
        limits=_limits(r.characteristic), verdict=_("Pass") if r.passed else _("Fail"), passed=r.passed,
        who=r.user.display_name if r.user else "", when=format_moment(r.recorded_at),
    ) for r in inspections.results_of_order(order_id)]
    ncr_lines = [report.NcrLine(
        number=str(n.id), operation=f"{n.operation.seq} {n.operation.name}" if n.operation else "", quantity=n.quantity,
        defect=n.defect, status=n.status.label,
        disposition=(n.disposition.label + (f": {n.disposition_reason}" if n.disposition_reason else "")
                     + (f" ({n.disposed_by.display_name}, {format_moment(n.disposed_at)})" if n.disposed_by else ""))
        if n.disposition else "",
    ) for n in services.ncrs_of_order(order_id)]
    sheet = report.InspectionReport(
        number=order.number, product=f"{order.product.code} {order.product.name}", quantity=order.quantity,
        status=order.status.label, printed=format_moment(utcnow()), results=results, ncrs=ncr_lines)
    labels = {"title": _("Inspection report"), "product": _("Product"), "quantity": _("Quantity"), "status": _("Status"),
              "printed": _("Printed"), "results": _("Inspection results"), "operation": _("Operation"),
              "characteristic": _("Characteristic"), "occasion": _("When"), "value": _("Value"), "limits": _("Limits"),
              "verdict": _("Result"), "who": _("Who"), "when": _("Time"), "no_results": _("No inspections recorded."),
              "ncrs": _("Nonconformances"), "ncr": _("No."), "defect": _("Defect"), "disposition": _("Disposition"),
              "no_ncrs": _("No nonconformances.")}
    response = Response(report.render(sheet, labels), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="inspection-{order.id}.pdf"'
    return response
