"""Work order pages: the list (search, filters, paging), create and edit, the detail with
per-operation progress, state changes, splitting, and changes to the remaining operations."""
from __future__ import annotations

from functools import partial
from typing import Any

from flask import Blueprint, Response, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from mes.core import idempotency
from mes.core.auth import Permission, requires
from mes.core.clock import plant_today
from mes.core.db import session
from mes.core.errors import ValidationError
from mes.core.forms import parse_date
from mes.core.inputs import MAX_INT, MAX_PAGE, query_int, query_text, required_version
from mes.core.web import form_version, hx_redirect, notify, render
from mes.operations import forms as operation_forms
from mes.operations import services as operations
from mes.operations.rules import OperationInput
from mes.orders import changes, lifecycle, queries, services
from mes.orders.forms import SplitForm, WorkOrderForm
from mes.orders.models import OPEN_STATUSES, PRIORITY_LABELS, WORK_ORDER_STATUS_LABELS, Priority, WorkOrder
from mes.routing.models import Product

bp = Blueprint("orders", __name__, url_prefix="/orders")
PER_PAGE = 50


def _filter_from_args() -> queries.OrderFilter:
    errors: dict[str, list] = {}
    # A bare visit shows the work still to do; any filter (even an empty one) shows what it asks.
    default_status = [s.value for s in OPEN_STATUSES] if not request.args else []
    f = queries.OrderFilter(
        q=query_text("q"),
        status=[s for s in request.args.getlist("status") if s in WORK_ORDER_STATUS_LABELS] or default_status,
        product_id=query_int("product"),
        due_from=parse_date(request.args.get("due_from"), "due_from", errors),
        due_to=parse_date(request.args.get("due_to"), "due_to", errors),
        late=bool(request.args.get("late")),
        sort=request.args.get("sort") if request.args.get("sort") in queries.SORTS else "due",
    )
    if errors:
        raise ValidationError(fields=errors)
    return f


@bp.route("/")
@requires(Permission.VIEW_ORDERS)
def list_orders() -> Response:
    f = _filter_from_args()
    page = query_int("page", 1, max=MAX_PAGE) or 1
    rows, total = queries.list_orders(f, page=page, per_page=PER_PAGE)
    products = session().scalars(select(Product).order_by(Product.code)).all()
    args = {k: v for k, v in request.args.items(multi=True) if k != "page"}

    def page_url(n: int) -> str:
        return url_for("orders.list_orders", page=n, **_multi(request.args, exclude="page"))

    return render("orders/list.html", "orders/_results.html", orders=rows, total=total, f=f, page=page,
                  pages=max((total + PER_PAGE - 1) // PER_PAGE, 1), page_url=page_url, products=products,
                  statuses=WORK_ORDER_STATUS_LABELS, today=plant_today(), args=args)


def _multi(args: Any, exclude: str) -> dict[str, list[str]]:
    return {k: args.getlist(k) for k in args if k != exclude}


def _product_choices() -> list[tuple[int, str]]:
    return [(p.id, f"{p.code} · {p.name}") for p in session().scalars(
        select(Product).where(Product.active.is_(True)).order_by(Product.code))]


def _order_input(form: WorkOrderForm) -> services.WorkOrderInput:
    return services.WorkOrderInput(
        product_id=form.product_id.data, quantity=form.quantity.data, due_date=form.due_date.data,
        number=form.number.data, release_date=form.release_date.data, priority=Priority(form.priority.data),
        customer=form.customer.data, note=form.note.data,
    )


def _apply_errors(form: Any, exc: ValidationError) -> None:
    aliases = {"product": "product_id"}
    for field, errors in exc.fields.items():
        target = getattr(form, aliases.get(field, field), None)
        if target is not None:
            target.errors = [str(e) for e in errors]


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.EDIT_ORDERS)
def new_order() -> Response:
    form = WorkOrderForm()
    form.product_id.choices = _product_choices()
    status = 200
    if form.validate_on_submit():
        data = _order_input(form)
        try:
            _status, body, _replayed = idempotency.run(
                current_user.id, form.request_key.data, "work_order.create", data.__dict__,
                lambda s: (201, {"id": services.create_in(s, data)}),
            )
            return hx_redirect(url_for("orders.detail", order_id=body["id"]))
        except ValidationError as exc:
            _apply_errors(form, exc)
            status = 422
    elif form.errors:
        status = 422
    return render("orders/form.html", "orders/_form.html", status=status, form=form, order=None)


@bp.route("/<int:order_id>/edit", methods=["GET", "POST"])
@requires(Permission.EDIT_ORDERS)
def edit_order(order_id: int) -> Response:
    order = queries.get(order_id)
    form = WorkOrderForm(obj=order) if request.method == "GET" else WorkOrderForm()
    form.product_id.choices = _product_choices()
    if request.method == "GET":
        form.priority.data = order.priority.value
        form.version.data = str(order.version)
    status = 200
    if form.validate_on_submit():
        version = required_version(form.version.data or "")
        try:
            services.update(order_id, version, _order_input(form))
            return hx_redirect(url_for("orders.detail", order_id=order_id))
        except ValidationError as exc:
            _apply_errors(form, exc)
            status = 422
    elif form.errors:
        status = 422
    return render("orders/form.html", "orders/_form.html", status=status, form=form, order=order)


def _detail(order_id: int, status: int = 200, **extra: Any) -> Response:
    order = queries.get(order_id)
    split_form = extra.pop("split_form", None) or SplitForm(formdata=None, version=order.version)
    children = session().scalars(select(WorkOrder).where(WorkOrder.parent_id == order_id)).all()
    return render("orders/detail.html", "orders/_order_body.html", status=status, order=order,
                  progress=queries.progress(order), split_form=split_form, children=children,
                  today=plant_today(), priorities=PRIORITY_LABELS, lifecycle=lifecycle, **extra)


def _saved(order_id: int) -> Response:
    notify(_l("Change saved."))
    return _detail(order_id)


@bp.route("/<int:order_id>")
@requires(Permission.VIEW_ORDERS)
def detail(order_id: int) -> Response:
    return _detail(order_id)


@bp.route("/<int:order_id>/status", methods=["POST"])
@requires(Permission.EDIT_ORDERS)
def change_status(order_id: int) -> Response:
    services.change_status(order_id, request.form.get("action", ""), form_version(), request.form.get("reason"))
    notify(_l("Work order saved."))
    return _detail(order_id)


@bp.route("/<int:order_id>/split", methods=["POST"])
@requires(Permission.EDIT_ORDERS)
def split(order_id: int) -> Response:
    form = SplitForm()
    if form.validate_on_submit():
        version = form_version()
        try:
            child_id = services.split(order_id, version, form.quantity.data, form.reason.data, form.due_date.data)
            notify(_l("Split off as work order %(number)s.", number=session().get(WorkOrder, child_id).number))
            return _detail(order_id)
        except ValidationError as exc:
            if not exc.fields:
                raise
            _apply_errors(form, exc)
    return _detail(order_id, status=422, split_form=form, show_split=True)


# --- changes to the remaining operations of a released order -------------------------------------


EDITOR = operation_forms.Editor(
    add="orders.insert_operation", change="orders.change_operation", refresh="orders.refresh_operation_form",
    cancel="orders.detail", key="order_id", target="#order", reason_required=True, columns=11,
)


@bp.route("/<int:order_id>/operations/new")
@requires(Permission.EDIT_ORDERS)
def new_operation(order_id: int) -> Response:
    order = queries.get(order_id)
    after = query_int("after", max=MAX_INT)
    seqs = sorted(op.seq for op in order.operations)
    seq = operations.choose_seq(set(seqs), None)
    if after is not None:
        nxt = next((x for x in seqs if x > after), None)
        # Between two operations numbered 10 apart, the inserted one becomes 15 (or 11, ...).
        seq = next((c for c in (after + 5, after + 1) if c not in seqs and (nxt is None or c < nxt)), None)
    values = {"seq": seq, "follows_previous": True, "machines": {}, "work_center_id": query_int("work_center_id")}
    return EDITOR.render(order, None, values, {})


@bp.route("/<int:order_id>/operations/<int:operation_id>/edit")
@requires(Permission.EDIT_ORDERS)
def edit_operation(order_id: int, operation_id: int) -> Response:
    order = queries.get(order_id)
    op = operations.find(order, operation_id)
    values = operation_forms.op_values(op, operations.predecessor_seqs(order).get(op.id, []))
    return EDITOR.render(order, op, values, {})


@bp.route("/<int:order_id>/operations/form")
@requires(Permission.EDIT_ORDERS)
def refresh_operation_form(order_id: int) -> Response:
    order = queries.get(order_id)
    op = next((o for o in order.operations if o.id == query_int("operation_id")), None)
    return EDITOR.render(order, op, operation_forms.form_values(request.args, operation_forms.machine_ids_of(request.args)), {})


@bp.route("/<int:order_id>/operations", methods=["POST"], endpoint="insert_operation", defaults={"operation_id": None})
@bp.route("/<int:order_id>/operations/<int:operation_id>", methods=["POST"], endpoint="change_operation")
@requires(Permission.EDIT_ORDERS)
def save_operation(order_id: int, operation_id: int | None) -> Response:
    order = queries.get(order_id)
    op = operations.find(order, operation_id) if operation_id else None
    reason = request.form.get("reason")
    version = form_version()

    def save(data: OperationInput, seq: int | None) -> None:
        if op is None:
            changes.insert_operation(order_id, version, data, seq, reason)
        else:
            changes.change_operation(order_id, op.id, version, data, reason)

    return operation_forms.save_submitted(op is None, save, lambda: _saved(order_id),
                                          partial(EDITOR.render, order, op))


@bp.route("/<int:order_id>/operations/<int:operation_id>/skip", methods=["POST"])
@requires(Permission.EDIT_ORDERS)
def skip_operation(order_id: int, operation_id: int) -> Response:
    changes.skip_operation(order_id, operation_id, form_version(), request.form.get("reason"))
    return _saved(order_id)


@bp.route("/<int:order_id>/operations/<int:operation_id>/restore", methods=["POST"])
@requires(Permission.EDIT_ORDERS)
def restore_operation(order_id: int, operation_id: int) -> Response:
    changes.restore_operation(order_id, operation_id, form_version(), request.form.get("reason"))
    return _saved(order_id)


@bp.route("/<int:order_id>/operations/<int:operation_id>/move", methods=["POST"])
@requires(Permission.EDIT_ORDERS)
def move_operation(order_id: int, operation_id: int) -> Response:
    direction = -1 if request.form.get("direction") == "up" else 1
    changes.move_operation(order_id, operation_id, form_version(), direction, request.form.get("reason"))
    return _saved(order_id)


