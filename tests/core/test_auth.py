"""Logging in: office password, shop-floor badge and PIN, throttling that survives restarts,
kiosk enrollment and revocation, idle shop-floor sessions, ending all sessions of a user."""
from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import select

from mes.admin import services as admin
from mes.core.auth import LAST_SEEN
from mes.core.db import transaction, utcnow
from mes.core.models import LoginThrottle
from tests.conftest import PASSWORD, login, make_app


def test_password_login_and_logout(client, users):
    assert client.get("/orders/").status_code == 302
    r = client.post("/login", data={"username": "planner", "password": PASSWORD})
    assert r.status_code == 303 and r.headers["Location"] == "/orders/"
    assert client.get("/orders/").status_code == 200
    client.post("/logout")
    assert client.get("/orders/").status_code == 302


def test_wrong_password_is_refused_with_a_message(client, users):
    r = client.post("/login", data={"username": "planner", "password": "nope-nope"})
    assert r.status_code == 401
    assert "Login failed" in r.get_data(as_text=True)
    assert client.get("/orders/").status_code == 302


def test_unknown_user_and_inactive_user_are_refused(client, users):
    assert client.post("/login", data={"username": "ghost", "password": PASSWORD}).status_code == 401
    admin.update_user(users["planner"], admin.UserInput(username="planner", display_name="P", roles=["planner"], active=False))
    assert client.post("/login", data={"username": "planner", "password": PASSWORD}).status_code == 401


def test_empty_login_form_gets_field_errors(client, users):
    r = client.post("/login", data={"username": "", "password": ""})
    assert r.status_code == 422
    assert "This field is required." in r.get_data(as_text=True)


def test_account_is_locked_after_repeated_failures_and_lock_survives_restart(app, client, users, database_url, tmp_path):
    for _ in range(app.config["LOGIN_MAX_FAILURES_ACCOUNT"]):
        assert client.post("/login", data={"username": "planner", "password": "wrong-pass"}).status_code == 401
    r = client.post("/login", data={"username": "planner", "password": PASSWORD})
    assert r.status_code == 429
    assert "Too many failed attempts" in r.get_data(as_text=True)
    # A second process (or a restarted one) sees the same lock: it lives in the database.
    other = make_app(database_url, tmp_path)
    with other.app_context():
        r = other.test_client().post("/login", data={"username": "planner", "password": PASSWORD})
    other.extensions["mes.db"].dispose()
    assert r.status_code == 429
    # Other accounts are not affected.
    login(app.test_client(), "owner")


def test_success_resets_the_account_counter(app, client, users):
    for _ in range(app.config["LOGIN_MAX_FAILURES_ACCOUNT"] - 1):
        client.post("/login", data={"username": "planner", "password": "wrong-pass"})
    login(client, "planner")
    client.post("/logout")
    for _ in range(app.config["LOGIN_MAX_FAILURES_ACCOUNT"] - 1):
        client.post("/login", data={"username": "planner", "password": "wrong-pass"})
    login(client, "planner")


def test_lock_expires_after_its_delay(app, client, users):
    for _ in range(app.config["LOGIN_MAX_FAILURES_ACCOUNT"]):
        client.post("/login", data={"username": "planner", "password": "wrong-pass"})
    assert client.post("/login", data={"username": "planner", "password": PASSWORD}).status_code == 429
    # As if the delay had passed (the database's clock, not this machine's load, decides).
    with app.app_context(), transaction() as s:
        locked = s.scalars(select(LoginThrottle).where(LoginThrottle.locked_until.is_not(None))).all()
        assert locked
        for row in locked:
            row.locked_until = utcnow() - dt.timedelta(seconds=1)
    login(client, "planner")


def test_badge_login_goes_to_the_shop_floor(client, users):
    r = client.post("/floor/login", data={"badge-badge": "BADGE-WORKER"})
    assert r.status_code == 303 and r.headers["Location"] == "/floor/"
    assert client.get("/floor/").status_code == 200


def test_unknown_badges_are_throttled_per_device(app, client, users):
    for _ in range(app.config["LOGIN_MAX_FAILURES_DEVICE"]):
        assert client.post("/floor/login", data={"badge-badge": "NOT-A-BADGE"}).status_code == 401
    assert client.post("/floor/login", data={"badge-badge": "BADGE-WORKER"}).status_code == 429


def _enroll(app, users, client, work_center_id=None) -> int:  # type: ignore[no-untyped-def]
    """Enroll ``client``'s browser as a kiosk through the admin page; returns the device id."""
    from sqlalchemy import select

    from mes.core.db import get_db
    from mes.core.models import KioskDevice

    admin_client = app.test_client()
    login(admin_client, "admin")
    r = admin_client.post("/admin/kiosks", data={"name": "Lathe tablet", "work_center_id": work_center_id or 0})
    assert r.status_code == 303
    cookie = admin_client.get_cookie("mes_kiosk")
    assert cookie is not None
    client.set_cookie("mes_kiosk", cookie.value)
    with get_db().read_session() as s:
        return s.scalar(select(KioskDevice.id).order_by(KioskDevice.id.desc()))


def test_pin_login_only_on_an_enrolled_kiosk(app, client, users):
    r = client.post("/floor/login", data={"pin-employee_no": "7001", "pin-pin": "2468"})
    assert r.status_code == 422
    assert "已注册" in r.get_data(as_text=True)  # the floor login speaks Chinese by default
    _enroll(app, users, client)
    r = client.post("/floor/login", data={"pin-employee_no": "7001", "pin-pin": "2468"})
    assert r.status_code == 303


def test_revoked_kiosk_no_longer_accepts_pins(app, client, users):
    device_id = _enroll(app, users, client)
    admin.revoke_kiosk(device_id)
    r = client.post("/floor/login", data={"pin-employee_no": "7001", "pin-pin": "2468"})
    assert r.status_code == 422


def test_pin_is_throttled_per_account_per_device_and_globally(app, client, users):
    _enroll(app, users, client)
    limit = app.config["LOGIN_MAX_FAILURES_ACCOUNT"]
    for _ in range(limit):
        client.post("/floor/login", data={"pin-employee_no": "7001", "pin-pin": "0000"})
    assert client.post("/floor/login", data={"pin-employee_no": "7001", "pin-pin": "2468"}).status_code == 429
    # Guessing across accounts on one device hits the device limit.
    app.config["LOGIN_MAX_FAILURES_ACCOUNT"] = 100
    for n in range(app.config["LOGIN_MAX_FAILURES_DEVICE"]):
        client.post("/floor/login", data={"pin-employee_no": f"9{n:03d}", "pin-pin": "0000"})
    assert client.post("/floor/login", data={"pin-employee_no": "7002", "pin-pin": "1357"}).status_code == 429


def test_global_pin_limit_spans_devices(app, users):
    app.config["LOGIN_MAX_FAILURES_GLOBAL"] = 6
    app.config["LOGIN_MAX_FAILURES_DEVICE"] = 100
    app.config["LOGIN_MAX_FAILURES_ACCOUNT"] = 100
    a, b = app.test_client(), app.test_client()
    _enroll(app, users, a)
    _enroll(app, users, b)
    for n in range(3):
        a.post("/floor/login", data={"pin-employee_no": f"8{n}", "pin-pin": "0000"})
        b.post("/floor/login", data={"pin-employee_no": f"9{n}", "pin-pin": "0000"})
    assert a.post("/floor/login", data={"pin-employee_no": "7001", "pin-pin": "2468"}).status_code == 429


def _idle(app, client) -> None:  # type: ignore[no-untyped-def]
    """As if the session's last request were longer ago than the kiosk's idle limit."""
    with client.session_transaction() as sess:
        sess[LAST_SEEN] = time.time() - app.config["KIOSK_IDLE_SECONDS"] - 5


def test_shop_floor_session_ends_after_inactivity(app, client, users):
    client.post("/floor/login", data={"badge-badge": "BADGE-WORKER"})
    assert client.get("/floor/").status_code == 200
    assert client.get("/session").get_json() == {"authenticated": True}
    _idle(app, client)
    r = client.get("/floor/")
    assert r.status_code == 302 and "/floor/login" in r.headers["Location"]


def test_office_session_does_not_idle_out_like_a_kiosk(app, client, users):
    login(client, "planner")
    _idle(app, client)
    assert client.get("/orders/").status_code == 200


def test_htmx_request_without_session_gets_hx_redirect(client, users):
    r = client.get("/orders/", headers={"HX-Request": "true"})
    assert r.status_code == 401
    assert r.headers["HX-Redirect"].startswith("/login")


def test_log_out_everywhere_ends_existing_sessions(app, users):
    a, b = app.test_client(), app.test_client()
    login(a, "planner")
    login(b, "planner")
    admin.log_out_everywhere(users["planner"])
    assert a.get("/orders/").status_code == 302
    assert b.get("/orders/").status_code == 302


def test_password_change_ends_other_sessions(app, users):
    a, b = app.test_client(), app.test_client()
    login(a, "planner")
    login(b, "planner")
    r = a.post("/account", data={"current": PASSWORD, "new": "another-pass-9", "repeat": "another-pass-9"})
    assert r.status_code == 303
    assert b.get("/orders/").status_code == 302
    login(app.test_client(), "planner", "another-pass-9")


def test_wrong_current_password_is_shown_beside_the_field(client, users):
    login(client, "planner")
    r = client.post("/account", data={"current": "bad", "new": "another-pass-9", "repeat": "another-pass-9"})
    assert r.status_code == 422
    assert "The current password is wrong." in r.get_data(as_text=True)


def test_open_redirect_is_refused(client, users):
    r = client.post("/login?next=//evil.example/x", data={"username": "planner", "password": PASSWORD})
    assert r.headers["Location"] == "/orders/"


@pytest.mark.parametrize("role,landing", [("planner", "/orders/"), ("admin", "/admin/users"), ("owner", "/")])
def test_each_role_lands_on_its_start_page(client, users, role, landing):
    r = client.post("/login", data={"username": role, "password": PASSWORD})
    assert r.headers["Location"] == landing


def test_logout_ends_the_session_for_a_copied_cookie(app, users):
    """A cookie copied before logging out (another tab, a stolen copy) no longer works after it,
    while the same user's session on another device goes on."""
    from mes.core import sessions

    tablet, office = app.test_client(), app.test_client()
    login(tablet, "planner")
    login(office, "planner")
    assert tablet.get("/orders/").status_code == 200
    cookie = tablet.get_cookie("session").value
    assert tablet.post("/logout").status_code == 303
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    r = replay.get("/orders/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert office.get("/orders/").status_code == 200  # logging out one device leaves the others
    assert sessions.count(users["planner"]) == 1


def test_password_change_ends_every_session(app, users):
    from mes.core import sessions

    one, two = app.test_client(), app.test_client()
    login(one, "planner")
    login(two, "planner")
    r = one.post("/account", data={"current": "correct-horse-1", "new": "another-horse-2", "repeat": "another-horse-2"})
    assert r.status_code == 303, r.data
    assert two.get("/orders/").status_code == 302
    assert sessions.count(users["planner"]) == 0


@pytest.mark.parametrize("spelling", [" 7001", "\t7001", "7001 ", "７００１", "\u30007001"])
def test_pin_lock_holds_for_every_spelling_of_the_employee_number(app, client, users, spelling):
    """Whitespace or full-width digits find the same account, so they count against the same lock."""
    _enroll(app, users, client)
    for _ in range(app.config["LOGIN_MAX_FAILURES_ACCOUNT"]):
        client.post("/floor/login", data={"pin-employee_no": "7001", "pin-pin": "0000"})
    r = client.post("/floor/login", data={"pin-employee_no": spelling, "pin-pin": "2468"})
    assert r.status_code == 429


@pytest.mark.parametrize("spelling", [" planner", "\tplanner", "PLANNER", "ｐｌａｎｎｅｒ"])
def test_password_lock_holds_for_every_spelling_of_the_username(client, users, spelling):
    for _ in range(5):
        client.post("/login", data={"username": "planner", "password": "wrong-password"})
    r = client.post("/login", data={"username": spelling, "password": PASSWORD})
    assert r.status_code == 429


def test_identifiers_are_normalised_once():
    from mes.core.security import badge_code, identifier

    assert identifier(" ７００１\t") == "7001" and identifier("Planner ") == "planner"
    assert badge_code(" Ｂ1001\n") == "B1001"


def test_badges_are_stored_keyed_and_legacy_digests_are_rekeyed_on_login(app, client, users):
    import hashlib

    from mes.core.db import session, transaction
    from mes.core.models import User
    from mes.core.security import badge_digest

    stored = session().get(User, users["worker"]).badge_digest
    assert stored == badge_digest("BADGE-WORKER") != hashlib.sha256(b"BADGE-WORKER").hexdigest()
    # A row from before badges were keyed: the plain SHA-256 of the code.
    with transaction() as s:
        s.get(User, users["worker"]).badge_digest = hashlib.sha256(b"BADGE-WORKER").hexdigest()
    assert client.post("/floor/login", data={"badge-badge": "BADGE-WORKER"}).status_code == 303
    session().rollback()
    assert session().get(User, users["worker"]).badge_digest == badge_digest("BADGE-WORKER")
    # Under another secret key the same code gives another digest: a copied table is no dictionary.
    app.config["SECRET_KEY"] = "another-key"
    assert badge_digest("BADGE-WORKER") != stored


def test_an_attacker_cannot_lock_the_admin_out_from_elsewhere(app, users):
    attacker, admin_desk = app.test_client(), app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    admin_desk.environ_base["REMOTE_ADDR"] = "192.168.1.20"
    for _ in range(app.config["LOGIN_MAX_FAILURES_ACCOUNT"]):
        assert attacker.post("/login", data={"username": "admin", "password": "guess-guess"}).status_code == 401
    # The attacker is slowed down, even with the right password ...
    assert attacker.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 429
    # ... while the admin logs in from their own desk.
    login(admin_desk, "admin")


def test_delays_grow_with_every_further_failure(app, users):
    from mes.core import throttle
    from mes.core.db import session, utcnow
    from mes.core.models import LoginThrottle

    app.config["LOGIN_WINDOW_SECONDS"] = 3600
    client = app.test_client()
    waits = []
    for _ in range(app.config["LOGIN_MAX_FAILURES_ACCOUNT"] + 2):
        throttle.record_failure(throttle.account("planner", "ip:198.51.100.1"))
        session().rollback()
        row = session().get(LoginThrottle, "account:planner|ip:198.51.100.1")
        waits.append(round((row.locked_until - utcnow()).total_seconds()) if row.locked_until else 0)
    base = app.config["LOGIN_BASE_DELAY_SECONDS"]
    assert waits[-3:] == [base, 2 * base, 4 * base] or waits[-3:] == [base - 1, 2 * base - 1, 4 * base - 1]
    del client


def test_a_looser_limit_holds_for_the_account_from_anywhere(app, users):
    app.config["LOGIN_MAX_FAILURES_ACCOUNT_ANYWHERE"] = 8
    for n in range(8):
        c = app.test_client()
        c.environ_base["REMOTE_ADDR"] = f"203.0.113.{n}"
        c.post("/login", data={"username": "planner", "password": "guess-guess"})
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = "192.168.1.20"
    assert c.post("/login", data={"username": "planner", "password": PASSWORD}).status_code == 429
