"""Security headers on every response: each page a user can reach by following links, as each
role and anonymously, plus static files, API answers and errors."""
from __future__ import annotations

import re
from collections import deque

import pytest

from mes.core.headers import CONTENT_SECURITY_POLICY

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def assert_secure_headers(response, url):  # type: ignore[no-untyped-def]
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (url, name)
    csp = response.headers.get("Content-Security-Policy", "")
    assert csp == CONTENT_SECURITY_POLICY, url
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP


def walk(client, start: str = "/", limit: int = 80) -> list[str]:  # type: ignore[no-untyped-def]
    seen, queue, visited = {start}, deque([start]), []
    while queue and len(visited) < limit:
        url = queue.popleft()
        r = client.get(url)
        assert_secure_headers(r, url)
        visited.append(url)
        if r.status_code in (301, 302, 303) and r.headers["Location"].startswith("/"):
            links = [r.headers["Location"]]
        elif r.mimetype == "text/html":
            html = r.get_data(as_text=True)
            assert not re.search(r"<script(?![^>]*\bsrc=)", html), f"inline script on {url}"
            assert not re.search(r"\son[a-z]+=|\shx-on|\sstyle=", html), f"inline handler or style on {url}"
            links = re.findall(r'(?:href|src|hx-get)="(/[^"]*)"', html)
        else:
            links = []
        for link in links:
            link = link.replace("&amp;", "&")
            if link not in seen and "logout" not in link:
                seen.add(link)
                queue.append(link)
    return visited


@pytest.mark.parametrize("role", [None, "planner", "admin", "worker", "owner", "quality"])
def test_every_page_of_a_walk_carries_the_security_headers(app, as_role, users, plant, make_order, role):
    make_order()
    client = as_role(role) if role else app.test_client()
    visited = walk(client, "/" if role else "/login")
    assert len(visited) > (5 if role else 1)


def test_api_static_and_errors_carry_them_too(client, users):
    for url in ("/api/v1/orders/", "/api/v1/openapi.json", "/static/mes.js", "/no-such-page", "/healthz"):
        assert_secure_headers(client.get(url), url)


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    r = client.get("/login", base_url="https://localhost")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_behind_a_proxy_the_forwarded_scheme_counts(database_url, tmp_path):
    from tests.conftest import make_app

    app = make_app(database_url, tmp_path, PROXY_HOPS=1)
    r = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in r.headers
    app.extensions["mes.db"].dispose()
