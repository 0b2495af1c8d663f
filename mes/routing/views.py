"""Product, routing and setup matrix pages: the routing editor adds, changes, removes and
re-orders operations inline; every change returns the redrawn routing."""
from __future__ import annotations

from functools import partial
from typing import Any

from flask import Blueprint, Response, g, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from mes.core.auth import Permission, can, requires
from mes.core.clock import plant_today
from mes.core.db import session
from mes.core.errors import NotFound, ValidationError
from mes.core.inputs import MAX_INT, form_int, query_int, query_text, to_int
from mes.core.forms import FormField, form_text, parse_date
from mes.core.web import form_version, hx_redirect, notify, render
from mes.machines.models import WorkCenter
from mes.operations import forms as operation_forms
from mes.operations import services as operations
from mes.operations.inspection import CharacteristicInput, parse_characteristic
from mes.operations.models import CharacteristicKind, Frequency
from mes.operations.rules import OperationInput
from mes.routing import services
from mes.routing.forms import ProductForm
from mes.routing.models import (
    Product,
    ProductFamily,
    Routing,
    RoutingOperation,
    RoutingStatus,
)

bp = Blueprint("routing", __name__, url_prefix="/routings")


@bp.route("/")
@requires(Permission.VIEW_ROUTINGS)
def list_products() -> Response:
    q = query_text("q") or ""
    family_id = query_int("family")
    query = select(Product).options(joinedload(Product.family)).order_by(Product.code)
    if q:
        query = query.where(or_(Product.code.icontains(q, autoescape=True), Product.name.icontains(q, autoescape=True)))
    if family_id:
        query = query.where(Product.family_id == family_id)
    products = session().scalars(query).all()
    versions: dict[int, list[Routing]] = {}
    for r in session().scalars(select(Routing).where(Routing.status != RoutingStatus.OBSOLETE).order_by(Routing.version_no)):
        versions.setdefault(r.product_id, []).append(r)
    families = session().scalars(select(ProductFamily).order_by(ProductFamily.code)).all()
    return render("routing/products.html", "routing/_product_rows.html", products=products, versions=versions,
                  families=families, q=q, family_id=family_id)


@bp.route("/products/new", methods=["GET", "POST"])
@requires(Permission.EDIT_ROUTINGS)
def new_product() -> Response:
    form = ProductForm()
    form.family_id.choices = [(f.id, f"{f.code} · {f.name}") for f in
                              session().scalars(select(ProductFamily).where(ProductFamily.active).order_by(ProductFamily.code))]
    status = 200
    if form.validate_on_submit():
        try:
            product_id = services.create_product(services.ProductInput(
                code=form.code.data, name=form.name.data, family_id=form.family_id.data, drawing=form.drawing.data or None))
            return hx_redirect(url_for("routing.product", product_id=product_id))
        except ValidationError as exc:
            for name, errors in exc.fields.items():
                if hasattr(form, name):
                    getattr(form, name).errors = [str(e) for e in errors]
            status = 422
    elif form.errors:
        status = 422
    return render("routing/product_form.html", "routing/_product_form.html", status=status, form=form)


@bp.route("/products/<int:product_id>")
@requires(Permission.VIEW_ROUTINGS)
def product(product_id: int) -> Response:
    item = session().get(Product, product_id)
    if item is None:
        raise NotFound()
    routings = session().scalars(
        select(Routing).where(Routing.product_id == product_id).order_by(Routing.version_no.desc())
    ).all()
    counts = dict(session().execute(
        select(RoutingOperation.routing_id, func.count()).where(RoutingOperation.routing_id.in_([r.id for r in routings]))
        .group_by(RoutingOperation.routing_id)
    ).all())
    in_force = services.routing_in_force(session(), product_id, plant_today())
    return render("routing/product.html", product=item, routings=routings, counts=counts, in_force=in_force)


@bp.route("/products/<int:product_id>/versions", methods=["POST"])
@requires(Permission.EDIT_ROUTINGS)
def new_version(product_id: int) -> Response:
    copy_from = form_int("copy_from")
    routing_id = services.create_version(product_id, copy_from_id=copy_from)
    return hx_redirect(url_for("routing.editor", routing_id=routing_id))


def _load_routing(routing_id: int) -> Routing:
    return operations.load_for_page(session(), Routing, routing_id, joinedload(Routing.product).joinedload(Product.family))


def _editor_context(routing: Routing) -> dict[str, Any]:
    preds = operations.predecessor_seqs(routing)
    centers = session().scalars(select(WorkCenter).order_by(WorkCenter.code)).all()
    in_force = services.routing_in_force(session(), routing.product_id, plant_today())
    return {"routing": routing, "preds": preds, "centers": centers, "editable": routing.status == RoutingStatus.DRAFT,
            "in_force": in_force if in_force is not None and in_force.id != routing.id else None}


def _body(routing_id: int, status: int = 200) -> Response:
    routing = _load_routing(routing_id)
    return render("routing/editor.html", "routing/_routing_body.html", status=status, **_editor_context(routing))


@bp.route("/<int:routing_id>")
@requires(Permission.VIEW_ROUTINGS)
def editor(routing_id: int) -> Response:
    return _body(routing_id)


@bp.route("/<int:routing_id>/header", methods=["POST"])
@requires(Permission.EDIT_ROUTINGS)
def update_header(routing_id: int) -> Response:
    errors: dict[str, list] = {}
    effective = parse_date(request.form.get("effective_from"), "effective_from", errors)
    if errors:
        raise ValidationError(fields=errors)
    services.update_header(routing_id, form_version(), effective, request.form.get("note"))
    return _body(routing_id)


EDITOR = operation_forms.Editor(
    add="routing.add_operation", change="routing.update_operation", refresh="routing.refresh_operation_form",
    cancel="routing.editor", key="routing_id", target="#routing",
)


@bp.route("/<int:routing_id>/operations/new")
@requires(Permission.EDIT_ROUTINGS)
def new_operation(routing_id: int) -> Response:
    routing = _load_routing(routing_id)
    last = routing.operations[-1] if routing.operations else None
    values = {"work_center_id": query_int("work_center_id") or (last.work_center_id if last else None),
              "follows_previous": True, "machines": {}, "seq": (last.seq if last else 0) + operations.SEQ_STEP}
    return EDITOR.render(routing, None, values, {})


@bp.route("/<int:routing_id>/operations/<int:operation_id>/edit")
@requires(Permission.EDIT_ROUTINGS)
def edit_operation(routing_id: int, operation_id: int) -> Response:
    routing = _load_routing(routing_id)
    op = operations.find(routing, operation_id)
    values = operation_forms.op_values(op, operations.predecessor_seqs(routing).get(op.id, []))
    if query_int("work_center_id"):
        values["work_center_id"] = query_int("work_center_id")
    return EDITOR.render(routing, op, values, {})


@bp.route("/<int:routing_id>/operations/form")
@requires(Permission.EDIT_ROUTINGS)
def refresh_operation_form(routing_id: int) -> Response:
    """Redraw the open form (e.g. its machine rows after the work center changed), keeping input."""
    routing = _load_routing(routing_id)
    operation_id = query_int("operation_id")
    op = next((o for o in routing.operations if o.id == operation_id), None)
    return EDITOR.render(routing, op, operation_forms.form_values(request.args, operation_forms.machine_ids_of(request.args)), {})


@bp.route("/<int:routing_id>/operations", methods=["POST"], endpoint="add_operation", defaults={"operation_id": None})
@bp.route("/<int:routing_id>/operations/<int:operation_id>", methods=["POST"], endpoint="update_operation")
@requires(Permission.EDIT_ROUTINGS)
def save_operation(routing_id: int, operation_id: int | None) -> Response:
    routing = _load_routing(routing_id)
    op = operations.find(routing, operation_id) if operation_id else None
    version = form_version()

    def save(data: OperationInput, seq: int | None) -> None:
        if op is None:
            services.add_operation(routing_id, version, data, seq=seq)
        else:
            services.update_operation(routing_id, op.id, version, data)

    return operation_forms.save_submitted(op is None, save, lambda: _body(routing_id),
                                          partial(EDITOR.render, routing, op))


@bp.route("/<int:routing_id>/operations/<int:operation_id>/remove", methods=["POST"])
@requires(Permission.EDIT_ROUTINGS)
def remove_operation(routing_id: int, operation_id: int) -> Response:
    services.remove_operation(routing_id, operation_id, form_version())
    return _body(routing_id)


@bp.route("/<int:routing_id>/operations/<int:operation_id>/move", methods=["POST"])
@requires(Permission.EDIT_ROUTINGS)
def move_operation(routing_id: int, operation_id: int) -> Response:
    direction = -1 if request.form.get("direction") == "up" else 1
    services.move_operation(routing_id, operation_id, form_version(), direction)
    return _body(routing_id)


def _plan_page(routing_id: int, operation_id: int, status: int = 200) -> Response:
    routing = _load_routing(routing_id)
    op = operations.find(routing, operation_id)
    return render("routing/inspection.html", "routing/_inspection_plan.html", status=status, routing=routing, op=op,
                  editable=routing.status == RoutingStatus.DRAFT, kinds=list(CharacteristicKind),
                  frequencies=list(Frequency))


@bp.route("/<int:routing_id>/operations/<int:operation_id>/inspection")
@requires(Permission.VIEW_ROUTINGS)
def inspection_plan(routing_id: int, operation_id: int) -> Response:
    """An operation's inspection plan: measured characteristics and attributes, and when to check them."""
    return _plan_page(routing_id, operation_id)


def _characteristic_input() -> CharacteristicInput:
    data, errors = parse_characteristic(request.form)
    if errors:
        raise ValidationError(fields=errors)
    return data


@bp.route("/<int:routing_id>/operations/<int:operation_id>/inspection", methods=["POST"])
@requires(Permission.EDIT_ROUTINGS)
def add_characteristic(routing_id: int, operation_id: int) -> Response:
    services.add_characteristic(routing_id, operation_id, form_version(), _characteristic_input())
    notify(_l("Characteristic added."))
    return _plan_page(routing_id, operation_id)


@bp.route("/<int:routing_id>/operations/<int:operation_id>/inspection/<int:characteristic_id>", methods=["POST"])
@requires(Permission.EDIT_ROUTINGS)
def update_characteristic(routing_id: int, operation_id: int, characteristic_id: int) -> Response:
    services.update_characteristic(routing_id, operation_id, characteristic_id, form_version(), _characteristic_input())
    notify(_l("Characteristic saved."))
    return _plan_page(routing_id, operation_id)


@bp.route("/<int:routing_id>/operations/<int:operation_id>/inspection/<int:characteristic_id>/remove", methods=["POST"])
@requires(Permission.EDIT_ROUTINGS)
def remove_characteristic(routing_id: int, operation_id: int, characteristic_id: int) -> Response:
    services.remove_characteristic(routing_id, operation_id, characteristic_id, form_version())
    return _plan_page(routing_id, operation_id)


@bp.route("/<int:routing_id>/release", methods=["POST"])
@requires(Permission.EDIT_ROUTINGS)
def release(routing_id: int) -> Response:
    errors: dict[str, list] = {}
    effective = parse_date(request.form.get("effective_from"), "effective_from", errors)
    if errors:
        raise ValidationError(fields=errors)
    services.release(routing_id, form_version(), effective)
    notify(_l("Routing version released."))
    return _body(routing_id)


@bp.route("/<int:routing_id>/obsolete", methods=["POST"])
@requires(Permission.EDIT_ROUTINGS)
def make_obsolete(routing_id: int) -> Response:
    services.make_obsolete(routing_id, form_version())
    notify(_l("Routing version made obsolete."))
    return _body(routing_id)


@bp.route("/setup-matrix")
@requires(Permission.VIEW_ROUTINGS)
def setup_matrix() -> Response:
    centers = session().scalars(select(WorkCenter).order_by(WorkCenter.code)).all()
    wc_id = query_int("work_center_id") or (centers[0].id if centers else None)
    families = session().scalars(select(ProductFamily).order_by(ProductFamily.code)).all()
    default, entries = services.changeover_minutes(session(), wc_id) if wc_id else (0, {})
    return render("routing/setup_matrix.html", "routing/_setup_matrix.html", centers=centers, wc_id=wc_id,
                  families=families, default=default, entries=entries, errors={})


@bp.route("/setup-matrix/<int:work_center_id>", methods=["POST"])
@requires(Permission.EDIT_ROUTINGS)
def save_setup_matrix(work_center_id: int) -> Response:
    families = session().scalars(select(ProductFamily).order_by(ProductFamily.code)).all()
    errors: dict[str, list] = {}
    values: dict[tuple[int, int], int | None] = {}
    for a in families:
        for b in families:
            raw = (request.form.get(f"m-{a.id}-{b.id}") or "").strip()
            if not raw:
                values[(a.id, b.id)] = None
                continue
            values[(a.id, b.id)] = to_int(raw, min=0, max=MAX_INT)
            if values[(a.id, b.id)] is None:
                errors[f"m-{a.id}-{b.id}"] = [str(ValidationError.default_message)]
    default = None
    raw_default = (request.form.get("default") or "").strip()
    if raw_default:
        default = to_int(raw_default, min=0, max=MAX_INT)
        if default is None:
            errors["default"] = [str(ValidationError.default_message)]
    if not errors:
        try:
            services.set_changeovers(work_center_id, values, default)
            notify(_l("Setup matrix saved."))
        except ValidationError as exc:
            errors = exc.fields
    centers = session().scalars(select(WorkCenter).order_by(WorkCenter.code)).all()
    default, entries = services.changeover_minutes(session(), work_center_id)
    if errors:
        entries = {k: v for k, v in values.items() if v is not None}
        g.keep_target = True
    return render("routing/setup_matrix.html", "routing/_setup_matrix.html", status=422 if errors else 200,
                  centers=centers, wc_id=work_center_id, families=families, default=default, entries=entries,
                  errors=errors)


# --- plant setup: product families -----------------------------------------------------------------

FAMILY_EDIT = (Permission.EDIT_ROUTINGS, Permission.ADMIN)


def _family_fields() -> list[FormField]:
    return [FormField("code", _l("Code"), required=True), FormField("name", _l("Name"), required=True)]


def _family_input() -> services.FamilyInput:
    return services.FamilyInput(code=form_text(request.form, "code"), name=form_text(request.form, "name"))


def _family_page(status: int = 200, **context: Any) -> Response:
    context.setdefault("record", None)
    context.setdefault("active", True)
    context.setdefault("lifecycle_url", None)
    context.setdefault("retire_hint", None)
    context.setdefault("version", None)
    return render("record_form.html", "_record_form.html", status=status, fields=_family_fields(),
                  back_url=url_for("routing.families"), back_label=_l("Product families"), **context)


@bp.route("/families/")
@requires(Permission.VIEW_ROUTINGS)
def families() -> Response:
    rows = session().scalars(select(ProductFamily).order_by(ProductFamily.active.desc(), ProductFamily.code)).all()
    counts = dict(session().execute(select(Product.family_id, func.count()).where(Product.active).group_by(Product.family_id)).all())
    return render("routing/families.html", families=rows, counts=counts,
                  editor=can(Permission.EDIT_ROUTINGS) or can(Permission.ADMIN))


@bp.route("/families/new", methods=["GET", "POST"])
@requires(*FAMILY_EDIT)
def new_family() -> Response:
    values: Any = {}
    errors: dict = {}
    status = 200
    if request.method == "POST":
        values = request.form
        try:
            services.create_family(_family_input())
            return hx_redirect(url_for("routing.families"))
        except ValidationError as exc:
            errors, status = exc.fields, 422
    return _family_page(status, title=_l("New product family"), action=url_for("routing.new_family"), values=values,
                        errors=errors, submit_label=_l("Create product family"))


@bp.route("/families/<int:family_id>", methods=["GET", "POST"])
@requires(*FAMILY_EDIT)
def edit_family(family_id: int) -> Response:
    family = session().get(ProductFamily, family_id)
    if family is None:
        raise NotFound()
    values: Any = {"code": family.code, "name": family.name}
    errors: dict = {}
    status, version = 200, family.version
    if request.method == "POST":
        values = request.form
        version = form_version()
        try:
            services.update_family(family_id, version, _family_input())
            return hx_redirect(url_for("routing.families"))
        except ValidationError as exc:
            errors, status = exc.fields, 422
    return _family_page(status, title=_l("Product family %(code)s", code=family.code),
                        action=url_for("routing.edit_family", family_id=family_id), values=values, errors=errors,
                        submit_label=_l("Save"), version=version, record=family, active=family.active,
                        lifecycle_url=url_for("routing.family_lifecycle", family_id=family_id),
                        retire_hint=_l("A retired family keeps its history but takes no new products. "
                                       "Refused while active products belong to it."))


@bp.route("/families/<int:family_id>/lifecycle", methods=["POST"])
@requires(*FAMILY_EDIT)
def family_lifecycle(family_id: int) -> Response:
    if request.form.get("action") == "reactivate":
        services.reactivate_family(family_id, form_version())
    else:
        services.retire_family(family_id, form_version())
    return hx_redirect(url_for("routing.families"))
