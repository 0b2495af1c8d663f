"""Two languages: every string the UI can show has its Chinese text, the compiled catalog matches
it, pages come out in the language chosen per user, per session or by the browser, and dates and
numbers follow the locale."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from mes.admin import services as admin
from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "mes" / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")


def extracted_messages() -> set[str]:
    """Every msgid in the code and templates, extracted the way babel.cfg says."""
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    found: set[str] = set()
    for folder, method in (("mes", "python"), ("templates", "jinja2")):
        pattern = "**.py" if method == "python" else "**.html"
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, [(pattern, method)], keywords=keywords
        ):
            if isinstance(message, tuple):  # plural forms: the catalog keys them by the singular
                found.add(message[0])
            elif message:
                found.add(message)
    return found


def test_every_ui_string_has_a_chinese_translation():
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="zh_CN")
    missing = sorted(
        msgid for msgid in extracted_messages()
        if catalog.get(msgid) is None or not catalog.get(msgid).string or catalog.get(msgid).fuzzy
    )
    assert missing == [], f"{len(missing)} strings lack a zh_CN translation, e.g. {missing[:10]}"


def test_compiled_catalog_matches_the_po_file():
    with PO.open("rb") as fh:
        po = read_po(fh, locale="zh_CN")
    with MO.open("rb") as fh:
        mo = read_mo(fh)
    def key(value):  # plural entries: tuples in a .po, lists in a .mo
        return tuple(value) if isinstance(value, (list, tuple)) else value

    po_map = {key(m.id): key(m.string) for m in po if m.id and m.string and not m.fuzzy}
    mo_map = {key(m.id): key(m.string) for m in mo if m.id}
    assert po_map == mo_map, "run: pybabel compile -d mes/translations"


def test_translations_keep_their_placeholders():
    import re

    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="zh_CN")
    for message in catalog:
        if message.id and message.string:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            wanted = set().union(*(re.findall(r"%\((\w+)\)[sd]", i) for i in ids))
            for string in strings:
                assert set(re.findall(r"%\((\w+)\)[sd]", string)) == wanted, message.id


@pytest.mark.parametrize("role", ["planner", "owner", "admin", "quality"])
def test_pages_render_in_chinese_by_browser_language(app, users, plant, make_order, role):
    make_order()
    client = app.test_client()
    zh = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
    client.post("/login", data={"username": role, "password": "correct-horse-1"}, headers=zh)
    r = client.get("/", headers=zh, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'lang="zh-CN"' in html
    assert "Log out" not in html and "退出" in html


def test_language_follows_the_user_setting_over_the_browser(app, users):
    admin.update_user(users["planner"], admin.UserInput(username="planner", display_name="P", roles=["planner"],
                                                        locale="zh_CN"))
    client = app.test_client()
    login(client, "planner")
    html = client.get("/orders/", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert 'lang="zh-CN"' in html


def test_language_switch_is_remembered(app, users):
    client = app.test_client()
    client.post("/locale", data={"locale": "zh_CN"})
    assert 'lang="zh-CN"' in client.get("/login").get_data(as_text=True)
    login(client, "planner")
    assert 'lang="zh-CN"' in client.get("/orders/").get_data(as_text=True)
    client.post("/locale", data={"locale": "en"})
    assert 'lang="en"' in client.get("/orders/").get_data(as_text=True)


def test_dates_and_numbers_are_localized(app, users, plant, make_order):
    order = make_order(quantity=1500, due_date=dt.date(2026, 12, 24))
    client = app.test_client()
    login(client, "planner")
    en = client.get(f"/orders/{order.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Dec 24, 2026" in en and "1,500" in en
    client.post("/locale", data={"locale": "zh_CN"})
    zh = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "2026年12月24日" in zh


def test_form_errors_are_localized(app, users):
    client = app.test_client()
    r = client.post("/login", data={"username": "", "password": ""}, headers={"Accept-Language": "zh-CN"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "This field is required." not in html


# --- every page of a seeded plant, read as a person sees it -----------------------------------

def _visible_text(html: str) -> str:
    import re

    html = re.sub(r"<(script|style|noscript|code)\b.*?</\1>", " ", html, flags=re.S | re.I)
    # Text marked as English on purpose (a reason's English name beside its Chinese one).
    html = re.sub(r'<(\w+)\b[^>]*\blang="en"[^>]*>.*?</\1>', " ", html, flags=re.S)
    # The import page documents the file's own column names and values, which are English by design.
    html = re.sub(r'<table class="grid file-columns">.*?</table>', " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html)


def _enum_words() -> set[str]:
    from mes.machines.models import MachineStatus
    from mes.operations.models import CharacteristicKind, Frequency
    from mes.quality.models import Disposition, NcrSource, NcrStatus
    from mes.orders.models import OperationStatus, Priority, WorkOrderStatus
    from mes.routing.models import RoutingStatus
    from mes.scheduling.engine.problem import Phase, SolveStatus
    from mes.scheduling.models import ScheduleStatus

    words = set()  # (role names are left out: the test users are named after their roles)
    for kind in (MachineStatus, OperationStatus, Priority, WorkOrderStatus, RoutingStatus, Phase, SolveStatus,
                 ScheduleStatus, CharacteristicKind, Frequency, NcrSource, NcrStatus, Disposition):
        words |= {m.value for m in kind}
    return words


# English words the app itself writes (not data people typed) that must not reach a Chinese page.
ENGLISH_ONLY = {"operations", "Imported from", "published", "created", "changed", "deleted", "entries", "System",
                "work_order", "product_id", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                "Dec", "AM", "PM"}


@pytest.fixture
def seeded_pages(app, users, plant, make_order):  # type: ignore[no-untyped-def]
    """A plant with orders in several states, downtime, a published plan, an imported change: and
    the URL of every page a GET shows, with real ids."""
    import re

    from mes.core import audit
    from mes.core.db import transaction
    from mes.machines import services as machines
    from mes.orders import changes
    from mes.scheduling import services as scheduling

    order = make_order(number="WO-I18N-1")
    make_order(release=False)
    changes.skip_operation(order.id, order.operations[1].id, order.version, "不需要")
    machines.record_downtime(plant.old, dt.datetime.now(dt.UTC), None, "maintenance", None)
    schedule_id = scheduling.start_run(time_limit=1, workers=1, wait=True)
    scheduling.publish(schedule_id, None)
    with audit.reason(audit.keyed_reason("imported_from", file="orders.csv")), transaction() as s:
        audit.record(s, "work_order", order.id, "update", "note", None, "x")
    ids = {"order_id": order.id, "operation_id": order.operations[0].id, "routing_id": plant.routing_id,
           "product_id": plant.p1, "machine_id": plant.old, "user_id": users["planner"], "schedule_id": schedule_id,
           "kind": "work_orders", "work_center_id": plant.turn}
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(("/api", "/static")) or rule.endpoint.endswith("static"):
            continue
        if any(a not in ids for a in rule.arguments) or rule.endpoint in ("imports.template", "core.logout"):
            continue
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(r"<(?:[^:<>]+:)?" + name + r">", str(ids[name]), url)
        urls.append(url)
    urls += [f"/admin/audit?entity=work_order&entity_id={order.id}", "/admin/audit?entity=schedule_version"]
    return urls


@pytest.mark.parametrize("role", ["planner", "owner", "admin", "quality"])
def test_chinese_pages_show_no_raw_values_or_english_words(app, seeded_pages, role):
    import re

    client = app.test_client()
    login(client, role)
    client.post("/locale", data={"locale": "zh_CN"})
    enum_words = _enum_words()
    checked = 0
    for url in seeded_pages:
        r = client.get(url)
        if r.status_code != 200 or not r.mimetype == "text/html":
            continue
        text = _visible_text(r.get_data(as_text=True))
        words = set(re.findall(r"[A-Za-z_][A-Za-z_-]*", text))
        raw = sorted(w for w in words if w in enum_words)
        english = sorted(w for w in ENGLISH_ONLY if (w in words if " " not in w else w in text))
        assert raw == [] and english == [], f"{url} as {role}: raw values {raw}, English {english}"
        checked += 1
    assert checked >= 8


@pytest.mark.parametrize("role", ["planner", "owner"])
def test_english_pages_use_one_date_format(app, seeded_pages, role):
    import re

    client = app.test_client()
    login(client, role)
    for url in seeded_pages:
        r = client.get(url, headers={"Accept-Language": "en"})
        if r.status_code != 200 or r.mimetype != "text/html":
            continue
        text = _visible_text(r.get_data(as_text=True))
        assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{2}\b", text), f"{url}: a short numeric date"
        assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text), f"{url}: an ISO date"
