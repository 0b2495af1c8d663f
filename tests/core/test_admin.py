"""Administration: users and roles, the guard against locking oneself out."""
from __future__ import annotations

from mes.core.db import session
from mes.core.models import User
from tests.conftest import PASSWORD, login


def test_admin_creates_a_user_who_can_log_in(as_role, app):
    client = as_role("admin")
    r = client.post("/admin/users/new", data={"username": "zhang", "display_name": "张伟", "roles": ["planner", "quality"],
                                              "password": "long-enough-1", "locale": "zh_CN", "active": "y"})
    assert r.status_code == 303
    other = app.test_client()
    login(other, "zhang", "long-enough-1")
    assert 'lang="zh-CN"' in other.get("/orders/").get_data(as_text=True)


def test_user_form_errors(as_role):
    client = as_role("admin")
    r = client.post("/admin/users/new", data={"username": "planner", "display_name": "x", "roles": [], "pin": "12"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "4 to 8 digits." in html


def test_duplicates_and_missing_roles(as_role):
    client = as_role("admin")
    r = client.post("/admin/users/new", data={"username": "planner", "display_name": "x", "active": "y", "locale": ""})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "This username is taken." in html and "Choose at least one role." in html


def test_admin_cannot_lock_themselves_out(as_role, users):
    client = as_role("admin")
    r = client.post(f"/admin/users/{users['admin']}", data={"username": "admin", "display_name": "A", "roles": ["planner"],
                                                            "active": "y", "locale": ""})
    assert r.status_code == 409
    session().rollback()
    from mes.core.models import Role

    assert session().get(User, users["admin"]).has_role(Role.ADMIN)
    r = client.post(f"/admin/users/{users['planner']}", data={"username": "planner", "display_name": "P", "roles": ["planner"],
                                                              "locale": ""})
    assert r.status_code == 303  # deactivating someone else is fine
    assert login_fails(client.application, "planner")


def login_fails(app, username: str) -> bool:  # type: ignore[no-untyped-def]
    return app.test_client().post("/login", data={"username": username, "password": PASSWORD}).status_code == 401
