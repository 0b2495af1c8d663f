"""Browser tests: the app served by waitress on a free port (as `mes run` does) and Debian's
Chromium driven by Playwright. Few and focused: the flows a person clicks through."""
from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def live_server(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[str, object]]:
    """(base URL, app) of a server on its own SQLite copy; the test seeds it through services."""
    from waitress.server import create_server

    from tests.conftest import make_app

    shutil.copy(sqlite_template, tmp_path / "mes.db")
    app = make_app(f"sqlite:///{tmp_path / 'mes.db'}", tmp_path, WTF_CSRF_ENABLED=True, TESTING=False)
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}", app
    finally:
        server.close()
        thread.join(timeout=5)
        # close() leaves waitress's task threads waiting; a suite of live servers piled up
        # about a hundred of them in the test process.
        server.task_dispatcher.shutdown()
        app.extensions["mes.db"].dispose()


@pytest.fixture
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian package chromium (/usr/bin/chromium); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    """A page that fails its test on any Content-Security-Policy violation the browser reports."""
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(10_000)
    pg = context.new_page()
    violations: list[str] = []
    pg.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield pg
    context.close()
    assert violations == [], "Content-Security-Policy violations:\n" + "\n".join(violations)
