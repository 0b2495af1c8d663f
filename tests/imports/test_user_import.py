"""Importing users in bulk: matched by username (create or update), checked by row and column, all
or nothing, through the administrator's services; badges and PINs are written only when given and
never shown back."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from mes.core.db import session
from mes.core.models import Role, User
from mes.core.security import check_secret
from mes.imports import services, templates
from mes.imports.columns import Kind

from tests.imports.test_import import csv_bytes

HEADER = ["username", "display_name", "roles", "employee_no", "badge", "pin", "language", "active"]


def _count() -> int:
    session().rollback()
    return session().scalar(select(func.count()).select_from(User))


def _user(username: str) -> User:
    session().rollback()
    return session().scalar(select(User).where(User.username == username))


def test_three_workers_import_and_log_in_by_badge(app, users):
    rows = [HEADER,
            ["zhang.wei", "张伟", "worker", "E-101", "B-101", "1357", "zh_CN", "yes"],
            ["wang.fang", "王芳", "操作工", "E-102", "B-102", "", "", ""],
            ["Chen.Jie", "陈杰", "worker，质检", "E-103", "B-103", "24680", "en", "是"]]
    before = _count()
    preview = services.preview(Kind.USERS, "users.csv", csv_bytes(rows))
    assert preview.valid, preview.errors
    assert _count() == before
    result = services.run(Kind.USERS, "users.csv", csv_bytes(rows))
    assert result.valid and result.committed, result.errors
    assert _count() == before + 3
    chen = _user("chen.jie")
    assert {r.role for r in chen.role_rows} == {Role.WORKER.value, Role.QUALITY.value}
    assert chen.locale == "en" and chen.active and check_secret(chen.pin_hash, "24680")
    assert _user("wang.fang").pin_hash is None
    for badge in ("B-101", "B-102", "B-103"):
        client = app.test_client()
        r = client.post("/floor/login", data={"badge-badge": badge})
        assert r.status_code == 303 and r.headers["Location"] == ("/" if badge == "B-103" else "/floor/"), badge


def test_bad_rows_are_refused_by_row_and_column_and_nothing_is_saved(app, users):
    rows = [HEADER,
            ["ok.one", "OK", "worker", "E-201", "B-201", "1234", "", ""],
            ["ok.one", "Twice", "worker", "E-202", "B-202", "", "", ""],
            ["bad.role", "Bad role", "worker, boss", "E-203", "B-203", "", "", ""],
            ["bad.pin", "Bad PIN", "worker", "E-204", "B-204", "12a4", "", ""],
            ["short.pin", "Short PIN", "worker", "E-205", "B-205", "123", "", ""],
            ["dup.badge", "Dup badge", "worker", "E-206", "B-201", "", "", ""],
            ["dup.emp", "Dup employee", "worker", "E-201", "B-207", "", "", ""],
            ["db.badge", "Badge taken", "worker", "E-208", "BADGE-WORKER", "", "", ""],
            ["db.emp", "Employee taken", "worker", "7001", "B-209", "", "", ""]]
    before = _count()
    for step in (services.preview, services.run):
        result = step(Kind.USERS, "users.csv", csv_bytes(rows))
        assert not result.committed
        found = {(e.row, e.column) for e in result.errors}
        assert found == {(3, "username"), (4, "roles"), (5, "pin"), (6, "pin"), (7, "badge"), (8, "employee_no"),
                         (9, "badge"), (10, "employee_no")}, result.errors
    assert _count() == before


def test_update_by_username_keeps_the_pin_when_the_cell_is_empty(app, users):
    worker = _user("worker")
    old_pin, old_badge = worker.pin_hash, worker.badge_digest
    rows = [HEADER, ["WORKER", "Worker Renamed", "worker", "7001", "", "", "zh_CN", "yes"]]
    preview = services.preview(Kind.USERS, "users.csv", csv_bytes(rows))
    assert preview.valid, preview.errors
    line = preview.created[0]
    assert line["action"] == "update" and line["pin"] == "unchanged" and line["badge"] == "unchanged"
    assert "display_name: Worker → Worker Renamed" in line["changes"]
    assert services.run(Kind.USERS, "users.csv", csv_bytes(rows)).committed
    worker = _user("worker")
    assert worker.display_name == "Worker Renamed" and worker.locale == "zh_CN"
    assert worker.pin_hash == old_pin and worker.badge_digest == old_badge
    rows = [HEADER, ["worker", "Worker Renamed", "worker", "7001", "", "9753", "", ""]]
    assert services.run(Kind.USERS, "users.csv", csv_bytes(rows)).committed
    assert check_secret(_user("worker").pin_hash, "9753")


def test_the_preview_shows_no_secret(as_role):
    client = as_role("admin")
    rows = [HEADER, ["secret.keeper", "Keeper", "worker", "E-301", "SECRET-BADGE-77", "864213", "", ""]]
    r = client.post("/import/preview", data={"kind": "users", "file": (io.BytesIO(csv_bytes(rows)), "u.csv")})
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert "secret.keeper" in body and "set" in body
    assert "864213" not in body and "SECRET-BADGE-77" not in body
    assert _user("secret.keeper") is None


def test_admin_may_import_users_and_a_worker_may_not(as_role):
    admin = as_role("admin")
    assert admin.get("/import/?kind=users").status_code == 200
    assert b"users-template" in admin.get("/import/template/users.csv").headers["Content-Disposition"].encode()
    rows = [HEADER, ["new.admin.import", "New", "worker", "E-401", "B-401", "", "", ""]]
    r = admin.post("/import/run", data={"kind": "users", "file": (io.BytesIO(csv_bytes(rows)), "u.csv")})
    assert r.status_code == 200 and _user("new.admin.import") is not None
    # an admin does not get the plant's kinds by this
    assert admin.get("/import/template/routings.csv").status_code == 403
    export = admin.get("/import/export/users.csv").get_data(as_text=True)
    assert "new.admin.import" in export and "B-401" not in export
    worker = as_role("worker")
    assert worker.get("/import/template/users.csv").status_code in (302, 403)
    r = worker.post("/import/run", data={"kind": "users", "file": (io.BytesIO(csv_bytes(rows)), "u.csv")})
    assert r.status_code in (302, 403)
    planner = as_role("planner")
    r = planner.post("/import/run", data={"kind": "users", "file": (io.BytesIO(csv_bytes(rows)), "u.csv")})
    assert r.status_code == 403


def test_the_template_imports_cleanly_and_the_export_imports_back(app, users):
    for chinese in (False, True):
        session().rollback()
        data = templates.template_file(Kind.USERS, "xlsx", chinese)
        assert services.preview(Kind.USERS, "users.xlsx", data).valid
    session().rollback()
    assert services.run(Kind.USERS, "users.csv", templates.template_file(Kind.USERS, "csv", True)).committed
    session().rollback()
    exported = templates.export_file(Kind.USERS, "csv", False)
    result = services.preview(Kind.USERS, "users.csv", exported)
    assert result.valid, result.errors
    assert all(not line["changes"] for line in result.created)
