"""Analysis pages: the scrap/defect Pareto by reason, product, machine and week; a control chart
per characteristic with Cp/Cpk and flagged points, drawn as SVG on the server."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from mes.core.db import session
from mes.machines.models import Reason, ReasonKind
from mes.quality import charts, inspections
from mes.quality.inspections import ResultInput
from mes.shopfloor import services as floor


def key() -> str:
    return uuid.uuid4().hex


def test_pareto_order_and_shares():
    rows = charts.pareto({"burr": 2, "dent": 6, "scratch": 2, "none": 0})
    assert [(r.label, r.count) for r in rows] == [("dent", 6), ("burr", 2), ("scratch", 2)]
    assert [round(r.cumulative, 2) for r in rows] == [0.6, 0.8, 1.0]
    picture = charts.pareto_picture(rows)
    assert picture.bars[0].height > picture.bars[1].height == picture.bars[2].height


@pytest.fixture
def measured(users, qplant, make_order):  # type: ignore[no-untyped-def]
    """Three orders' first pieces measured: 20.00, 20.02, 20.01, then a scrap report."""
    w = users["worker"]
    pause = session().scalar(select(Reason.id).where(Reason.kind == ReasonKind.PAUSE))
    for value in ("20.00", "20.02", "20.01", "20.09"):
        order = make_order(quantity=5)
        turn = order.operations[0]
        floor.start(w, key(), turn.id, "run", qplant.new)
        inspections.record(w, key(), turn.id, ResultInput(turn.characteristics[0].id, "first", 1, value=value))
        floor.pause(w, key(), turn.id, pause)  # frees the lathe for the next order
    codes = session().scalars(select(Reason).where(Reason.kind == ReasonKind.SCRAP).order_by(Reason.id)).all()
    floor.report(w, key(), turn.id, 0, 2, codes[0].id)
    floor.report(w, key(), turn.id, 0, 1, codes[1].id)
    return turn, codes


def test_pareto_page_by_reason_machine_week(as_role, measured):
    _turn, codes = measured
    q = as_role("quality")
    html = q.get("/quality/analysis?kind=scrap&by=reason").get_data(as_text=True)
    assert 'data-testid="pareto-svg"' in html and codes[0].name_en in html
    assert html.index(codes[0].name_en) < html.index(codes[1].name_en)  # the larger first
    assert "L-NEW" in q.get("/quality/analysis?kind=scrap&by=machine").get_data(as_text=True)
    assert "-W" in q.get("/quality/analysis?kind=scrap&by=week").get_data(as_text=True)
    assert "P-1" in q.get("/quality/analysis?kind=scrap&by=product").get_data(as_text=True)
    zh = q.get("/quality/analysis?kind=scrap&by=reason", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert codes[0].name_zh in zh
    assert q.get("/quality/analysis?kind=defects&by=reason&days=abc").status_code == 200
    assert as_role("worker").get("/quality/analysis").status_code == 403


def test_control_chart_with_capability(as_role, qplant, measured):
    from mes.routing.models import Routing

    routing = session().get(Routing, qplant.routing_id)
    char_id = routing.operations[0].characteristics[0].id
    q = as_role("owner")
    assert "Diameter" in q.get("/quality/charts/").get_data(as_text=True)
    html = q.get(f"/quality/charts/{char_id}").get_data(as_text=True)
    assert 'data-testid="chart-values"' in html and 'data-testid="chart-ranges"' in html
    # values 20.00, 20.02, 20.01, 20.09: moving ranges .02 .01 .08, MR-bar .03667, sigma .0325;
    # mean 20.03; Cp = .2 / (6 * .0325) = 1.03; Cpk = (20.1 - 20.03) / (3 * .0325) = .72
    assert '<dd data-testid="cp">1.03</dd>' in html
    assert '<dd data-testid="cpk">0.72</dd>' in html
    assert q.get(f"/quality/charts/{char_id}?subgroup=2").status_code == 200
    assert q.get(f"/quality/charts/{char_id}", headers={"Accept-Language": "zh-CN"}).status_code == 200
    assert q.get("/quality/charts/999999").status_code == 404


def test_flagged_points_are_drawn_red():
    from mes.quality import spc

    chart = spc.individuals([10, 10.1, 9.9, 10, 10.1, 9.9, 10, 14])
    picture = charts.chart_picture(chart.points, [(chart.limits.ucl, "control")], chart.flags)
    assert [d.flagged for d in picture.dots][-1] is True
    assert not any(d.flagged for d in picture.dots[:-1])
