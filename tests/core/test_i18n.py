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
