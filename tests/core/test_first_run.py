"""The first-run page: a new plant's name, time zone, language and first administrator, open only
while nobody can log in."""
from __future__ import annotations

from sqlalchemy import select

from mes.core.db import session
from mes.core.models import PlantSetting, Role, User

GOOD = {"plant_name": "Ningbo Precision", "timezone": "Asia/Shanghai", "locale": "zh_CN", "username": "Boss",
        "display_name": "Wang Wei", "password": "long-enough-1", "repeat": "long-enough-1"}


def test_first_run_sets_up_the_plant_once(app, client):
    login_page = client.get("/login").get_data(as_text=True)
    assert "Set up the plant" in login_page
    assert client.get("/setup").status_code == 200
    r = client.post("/setup", data={**GOOD, "plant_name": " ", "timezone": "Mars/Olympus", "repeat": "other-password",
                                    "username": ""})
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    for text in ("This field is required.", "Choose a time zone from the list.", "The passwords differ."):
        assert text in body, text
    session().rollback()
    assert session().scalar(select(User)) is None and session().scalar(select(PlantSetting)) is None
    r = client.post("/setup", data=GOOD)
    assert r.status_code == 303 and "/login" in r.headers["Location"]
    session().rollback()
    user = session().scalar(select(User))
    assert user.username == "boss" and user.roles == {Role.ADMIN} and user.locale == "zh_CN"
    assert {r.key: r.value for r in session().scalars(select(PlantSetting))} == {
        "plant_name": "Ningbo Precision", "timezone": "Asia/Shanghai", "locale": "zh_CN"}
    # closed for good: no second administrator through this page
    assert client.get("/setup").status_code == 404
    assert client.post("/setup", data={**GOOD, "username": "intruder"}).status_code == 404
    assert "Set up the plant" not in client.get("/login").get_data(as_text=True)
    r = client.post("/login", data={"username": "boss", "password": GOOD["password"]})
    assert r.status_code == 303
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Ningbo Precision" in page and 'lang="zh-CN"' in page


def test_stored_settings_win_over_the_environment(app, client):
    from mes.core.db import transaction
    from mes.core import settings

    with transaction() as s:
        settings.store(s, {"plant_name": "Suzhou Works", "timezone": "Europe/Berlin"})
    client.get("/login")
    assert app.config["PLANT_NAME"] == "Suzhou Works" and app.config["PLANT_TIMEZONE"] == "Europe/Berlin"


def test_setup_is_closed_when_users_exist(client, users):
    assert client.get("/setup").status_code == 404
    assert client.post("/setup", data=GOOD).status_code == 404
