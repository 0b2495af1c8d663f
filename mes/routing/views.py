"""Product, routing and setup matrix pages: the routing editor adds, changes, removes and
re-orders operations inline; every change returns the redrawn routing."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, request, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from mes.core.auth import Permission, requires
from mes.core.db import session
from mes.core.errors import NotFound, ValidationError
from mes.core.inputs import MAX_INT, form_int, ids_of, query_int, query_text, required_version, to_int
from mes.core.web import hx_redirect, render
from mes.machines.models import Machine, MachineStatus, WorkCenter
from mes.routing import graph, services
from mes.routing.forms import ProductForm, parse_date, parse_operation
from mes.routing.models import (
    Product,
    ProductFamily,
    Routing,
    RoutingOperation,
    RoutingOperationMachine,
    RoutingStatus,
)

bp = Blueprint("routing", __name__, url_prefix="/routings")


def _version() -> int:
    return required_version()


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
                              session().scalars(select(ProductFamily).order_by(ProductFamily.code))]
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
    from mes.core.clock import plant_today

    in_force = services.routing_in_force(session(), product_id, plant_today())
    return render("routing/product.html", product=item, routings=routings, counts=counts, in_force=in_force)


@bp.route("/products/<int:product_id>/versions", methods=["POST"])
@requires(Permission.EDIT_ROUTINGS)
def new_version(product_id: int) -> Response:
    copy_from = form_int("copy_from")
    routing_id = services.create_version(product_id, copy_from_id=copy_from)
    return hx_redirect(url_for("routing.editor", routing_id=routing_id))


def _load_routing(routing_id: int) -> Routing:
    routing = session().scalars(
        select(Routing).where(Routing.id == routing_id).options(
            joinedload(Routing.product).joinedload(Product.family),
            selectinload(Routing.operations).selectinload(RoutingOperation.machines).joinedload(RoutingOperationMachine.machine),
            selectinload(Routing.operations).joinedload(RoutingOperation.work_center),
            selectinload(Routing.edges),
        )
    ).unique().one_or_none()
    if routing is None:
        raise NotFound()
    return routing


def _editor_context(routing: Routing) -> dict[str, Any]:
    seqs = {op.id: op.seq for op in routing.operations}
    preds: dict[int, list[int]] = {}
    for p, q in graph.effective_edges(services.nodes_of(routing.operations, routing.edges)):
        preds.setdefault(q, []).append(seqs[p])
    centers = session().scalars(select(WorkCenter).order_by(WorkCenter.code)).all()
    return {"routing": routing, "preds": preds, "centers": centers, "editable": routing.status == RoutingStatus.DRAFT}


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
    services.update_header(routing_id, _version(), effective, request.form.get("note"))
    return _body(routing_id)


def _machines_for(work_center_id: int | None, chosen: list[int]) -> list[Machine]:
    """The machine rows of the form: the work center's machines, then any chosen elsewhere."""
    query = select(Machine).options(joinedload(Machine.work_center)).where(Machine.status != MachineStatus.RETIRED)
    query = query.where(or_(Machine.work_center_id == (work_center_id or 0), Machine.id.in_(chosen or [0])))
    return list(session().scalars(query.order_by(Machine.work_center_id != (work_center_id or 0), Machine.code)))


def _op_form(routing: Routing, op: RoutingOperation | None, values: dict[str, Any], errors: dict[str, list],
             status: int = 200) -> Response:
    chosen = values.get("machines", {})
    response = render(
        "routing/_operation_form.html", "routing/_operation_form.html", status=status, routing=routing, op=op,
        values=values, errors=errors, machines=_machines_for(values.get("work_center_id"), list(chosen)),
        centers=session().scalars(select(WorkCenter).order_by(WorkCenter.code)).all(),
        action=url_for("routing.update_operation", routing_id=routing.id, operation_id=op.id) if op
        else url_for("routing.add_operation", routing_id=routing.id),
    )
    return form_in_place(response, op)


def form_in_place(response: Response, op: Any) -> Response:
    """A form drawn again with its errors replaces itself, not the page part a save redraws."""
    if response.status_code < 400:
        return response
    g.keep_target = True
    response.headers["HX-Retarget"] = f"#op-{op.id}" if op else "#new-operation"
    response.headers["HX-Reswap"] = "outerHTML"
    return response


def op_values(op: RoutingOperation | Any, preds: list[int]) -> dict[str, Any]:
    """The operation editor's field values from a routing or work order operation."""
    return {
        "seq": op.seq, "name": op.name, "work_center_id": op.work_center_id, "setup_minutes": op.setup_minutes,
        "run_minutes": op.run_minutes, "transfer_batch": op.transfer_batch, "inspection_required": op.inspection_required,
        "drawing": op.drawing, "program_no": op.program_no, "instructions": op.instructions,
        "follows_previous": op.follows_previous, "predecessors": ", ".join(map(str, preds)),
        "machines": {m.machine_id: (m.setup_minutes, m.run_minutes) for m in op.machines},
    }


def form_values(form: Any, machine_ids: list[int]) -> dict[str, Any]:
    """What the user typed, to draw the form again beside its errors."""
    values = {k: form.get(k) for k in ("seq", "name", "setup_minutes", "run_minutes", "transfer_batch", "drawing",
                                       "program_no", "instructions", "predecessors", "reason")}
    values["work_center_id"] = to_int(form.get("work_center_id"))
    values["inspection_required"] = bool(form.get("inspection_required"))
    values["follows_previous"] = form.get("follows_previous", "1") == "1"
    values["machines"] = {
        mid: (form.get(f"machine-{mid}-setup_minutes"), form.get(f"machine-{mid}-run_minutes"))
        for mid in machine_ids if form.get(f"machine-{mid}-on")
    }
    return values


def form_machine_ids() -> list[int]:
    return ids_of(request.form.getlist("machine_ids"))


@bp.route("/<int:routing_id>/operations/new")
@requires(Permission.EDIT_ROUTINGS)
def new_operation(routing_id: int) -> Response:
    routing = _load_routing(routing_id)
    last = routing.operations[-1] if routing.operations else None
    values = {"work_center_id": query_int("work_center_id") or (last.work_center_id if last else None),
              "follows_previous": True, "machines": {}, "seq": (last.seq if last else 0) + services.SEQ_STEP}
    return _op_form(routing, None, values, {})


@bp.route("/<int:routing_id>/operations/<int:operation_id>/edit")
@requires(Permission.EDIT_ROUTINGS)
def edit_operation(routing_id: int, operation_id: int) -> Response:
    routing = _load_routing(routing_id)
    op = next((o for o in routing.operations if o.id == operation_id), None)
    if op is None:
        raise NotFound()
    ctx = _editor_context(routing)
    values = op_values(op, ctx["preds"].get(op.id, []))
    if query_int("work_center_id"):
        values["work_center_id"] = query_int("work_center_id")
    return _op_form(routing, op, values, {})


@bp.route("/<int:routing_id>/operations/form")
@requires(Permission.EDIT_ROUTINGS)
def refresh_operation_form(routing_id: int) -> Response:
    """Redraw the open form (e.g. its machine rows after the work center changed), keeping input."""
    routing = _load_routing(routing_id)
    operation_id = query_int("operation_id")
    op = next((o for o in routing.operations if o.id == operation_id), None)
    return _op_form(routing, op, form_values(request.args, ids_of(request.args.getlist("machine_ids"))), {})


def _save_operation(routing_id: int, operation_id: int | None) -> Response:
    routing = _load_routing(routing_id)
    op = next((o for o in routing.operations if o.id == operation_id), None) if operation_id else None
    machine_ids = form_machine_ids()
    data, errors = parse_operation(request.form, machine_ids)
    seq = None
    if op is None and request.form.get("seq"):
        seq = form_int("seq", max=MAX_INT)
        if seq is None:
            errors.setdefault("seq", []).append(str(ValidationError.default_message))
    if not errors:
        version = _version()
        try:
            if op is None:
                services.add_operation(routing_id, version, data, seq=seq)
            else:
                services.update_operation(routing_id, op.id, version, data)
            return _body(routing_id)
        except ValidationError as exc:
            if not exc.fields:
                raise
            errors = exc.fields
    return _op_form(routing, op, form_values(request.form, machine_ids), errors, status=422)


@bp.route("/<int:routing_id>/operations", methods=["POST"])
@requires(Permission.EDIT_ROUTINGS)
def add_operation(routing_id: int) -> Response:
    return _save_operation(routing_id, None)


@bp.route("/<int:routing_id>/operations/<int:operation_id>", methods=["POST"])
@requires(Permission.EDIT_ROUTINGS)
def update_operation(routing_id: int, operation_id: int) -> Response:
    return _save_operation(routing_id, operation_id)


@bp.route("/<int:routing_id>/operations/<int:operation_id>/remove", methods=["POST"])
@requires(Permission.EDIT_ROUTINGS)
def remove_operation(routing_id: int, operation_id: int) -> Response:
    services.remove_operation(routing_id, operation_id, _version())
    return _body(routing_id)


@bp.route("/<int:routing_id>/operations/<int:operation_id>/move", methods=["POST"])
@requires(Permission.EDIT_ROUTINGS)
def move_operation(routing_id: int, operation_id: int) -> Response:
    direction = -1 if request.form.get("direction") == "up" else 1
    services.move_operation(routing_id, operation_id, _version(), direction)
    return _body(routing_id)


@bp.route("/<int:routing_id>/release", methods=["POST"])
@requires(Permission.EDIT_ROUTINGS)
def release(routing_id: int) -> Response:
    errors: dict[str, list] = {}
    effective = parse_date(request.form.get("effective_from"), "effective_from", errors)
    if errors:
        raise ValidationError(fields=errors)
    services.release(routing_id, _version(), effective)
    return _body(routing_id)


@bp.route("/<int:routing_id>/obsolete", methods=["POST"])
@requires(Permission.EDIT_ROUTINGS)
def make_obsolete(routing_id: int) -> Response:
    services.make_obsolete(routing_id, _version())
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
        except ValidationError as exc:
            errors = exc.fields
    centers = session().scalars(select(WorkCenter).order_by(WorkCenter.code)).all()
    default, entries = services.changeover_minutes(session(), work_center_id)
    if errors:
        entries = {k: v for k, v in values.items() if v is not None}
        g.keep_target = True
    return render("routing/setup_matrix.html", "routing/_setup_matrix.html", status=422 if errors else 200,
                  centers=centers, wc_id=work_center_id, families=families, default=default, entries=entries,
                  errors=errors, saved=not errors)
