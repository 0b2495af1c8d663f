"""After login (and a language switch) the browser is sent only to a path on this host, whatever
the ``next`` parameter or referrer says."""
from __future__ import annotations

import pytest

from mes.core.web import safe_target

HOSTILE = [
    "//evil.example/", "///evil.example/", "////evil.example", "/\\evil.example/", "\\\\evil.example", "/\\/evil.example",
    "/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "\t//evil.example", " //evil.example", "/ /evil.example",
    "/\x00/evil.example", "/\x0b/evil.example", "/\x1f/evil.example", "/\x7f/evil.example", "/\u00a0/evil.example",
    "/\u2028/evil.example", "/\u200b/evil.example", "/\ufeff/evil.example", "https://evil.example/", "http:evil.example",
    "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>", "evil.example",
    "mailto:a@evil.example", "//evil.example@host/", "ftp://evil.example", "https:/evil.example", "\\/evil.example",
    "", "   ", "/" + "a" * 3000,
]
SAFE = ["/orders/", "/orders/12?tab=ops", "/floor/operations/3#card", "/routings/?q=%E9%BD%BF"]


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_targets_fall_back(target):
    assert safe_target(target, "/home") == "/home"


@pytest.mark.parametrize("target", SAFE)
def test_paths_on_this_host_are_kept(target):
    assert safe_target(target, "/home") == target


@pytest.mark.parametrize("raw_next", ["/%5Cevil.example/", "/%09/evil.example", "//evil.example", "https://evil.example",
                                      "/%0A/evil.example", "%2F%2Fevil.example", "/%2F/evil.example%20x"])
@pytest.mark.parametrize("htmx", [False, True])
def test_login_never_redirects_to_another_host(client, users, raw_next, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    r = client.post(f"/login?next={raw_next}", data={"username": "planner", "password": "correct-horse-1"}, headers=headers)
    target = r.headers["HX-Redirect"] if htmx else r.headers["Location"]
    assert target.startswith("/") and not target.startswith("//") and "\\" not in target and "evil" not in target.split("/")[1]
    if raw_next.startswith("/%2F/"):
        return  # a path on this host ("/%2F/evil..." is not read as a host by browsers)
    assert target == "/orders/"


def test_language_switch_returns_only_to_this_host(client):
    r = client.post("/locale", data={"locale": "en"}, headers={"Referer": "http://localhost/\\evil.example/"})
    assert r.headers["Location"] == "/"
    r = client.post("/locale", data={"locale": "en"}, headers={"Referer": "http://localhost/orders/?page=2"})
    assert r.headers["Location"] == "/orders/?page=2"
