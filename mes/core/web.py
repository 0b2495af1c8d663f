"""Page helpers shared by every blueprint: one URL renders the full page or, for targeted htmx
requests, only its fragment; errors render in place."""
from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, flash, g, get_flashed_messages, jsonify, make_response, render_template, request
from flask_babel import get_locale, gettext as _
from flask_htmx import HTMX
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.exceptions import HTTPException

from mes.core.auth import Permission, can
from mes.core.errors import DomainError
from mes.core.inputs import required_version

htmx = HTMX()


def wants_fragment() -> bool:
    """A targeted htmx request: not boosted navigation and not a history restore (the Back button
    after a pushed URL, which replaces the whole body), both of which want the whole page."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def notify(message: Any) -> None:
    """A confirmation for this response: shown in ``#messages`` by the page or the htmx swap this
    request answers, and gone with the next one."""
    g.setdefault("notices", []).append(message)


def notices() -> list[Any]:
    return list(g.get("notices", []))


def render(full: str, fragment: str | None = None, status: int = 200, **context: Any) -> Response:
    """Render ``fragment`` for htmx swaps and ``full`` (which includes it) otherwise."""
    template = fragment if fragment and wants_fragment() else full
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    response.vary.add("HX-History-Restore-Request")
    return response


def safe_target(target: str | None, fallback: str) -> str:
    r"""``target`` when it is a path on this host, ``fallback`` otherwise: the one rule for every
    ``next`` parameter, referrer and HX-Redirect.

    Browsers read ``/\host`` and ``/%09/host`` as ``//host`` (another host): they turn backslashes into
    slashes and drop tabs and newlines before parsing. So anything with a backslash, a control
    character or whitespace is refused outright, and what is left must be a path starting with
    one slash, with neither a scheme nor a host.
    """
    if not target or not isinstance(target, str) or len(target) > 2000:
        return fallback
    if "\\" in target or any(ch.isspace() or unicodedata.category(ch)[0] in "CZ" for ch in target):
        return fallback
    if not target.startswith("/") or target.startswith("//"):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return fallback
    return target


def hx_redirect(url: str) -> Response:
    """Navigate the whole page: HX-Redirect for htmx, a 303 otherwise (same host only)."""
    from flask import redirect

    url = safe_target(url, "/")
    for message in notices():  # said on the page the browser goes to
        flash(str(message), "notice")
    if htmx:
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def _error_response(status: int, message: str, body: dict[str, Any] | None = None) -> Response:
    if is_api_request():
        payload = body or {"code": _code_for(status), "message": message}
        return make_response(jsonify(payload), status)
    if htmx:
        response = make_response(render_template("_messages.html", errors=[message]), status)
        # Forms that draw their own field errors set their own target; the rest show a message.
        if not g.get("keep_target"):
            response.headers["HX-Retarget"] = "#messages"
            response.headers["HX-Reswap"] = "innerHTML"
        response.vary.add("HX-Request")
        return response
    return make_response(render_template("error.html", status=status, message=message), status)


def _code_for(status: int) -> str:
    return {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
            409: "conflict", 413: "too_large", 422: "validation_error", 429: "too_many_requests"}.get(status, "error")


def _http_message(status: int) -> str:
    messages = {
        400: _("The request is malformed."),
        401: _("Please log in."),
        403: _("You are not allowed to do this."),
        404: _("Not found."),
        405: _("This action is not allowed here."),
        409: _("This conflicts with the current state."),
        413: _("The upload is too large."),
        422: _("Please correct the highlighted fields."),
        429: _("Too many attempts. Please wait and try again."),
    }
    return messages.get(status, _("Something went wrong."))


def init_app(app: Flask) -> None:
    htmx.init_app(app)

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> Response:
        message = exc.text()
        if exc.fields and exc.message is type(exc).default_message:
            # No form draws these field errors: say them in the message itself.
            message = " ".join(str(m) for msgs in exc.fields.values() for m in msgs)
        return _error_response(exc.status, message, exc.to_dict())

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> Response:
        # A kiosk left open for hours: hand the page a fresh token so its script can retry the tap.
        token = generate_csrf()
        response = _error_response(400, _("Your session has expired. Please try again."))
        response.headers["X-CSRF-Token"] = token
        response.headers["X-CSRF-Expired"] = "1"
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        if status == 422 and is_api_request() and getattr(exc, "data", None):
            # webargs/flask-smorest parse errors: keep their field messages.
            messages = exc.data.get("messages", {})
            fields = messages.get("json") or messages.get("query") or messages
            return make_response(jsonify({"code": "validation_error", "message": _http_message(422), "errors": fields}), 422)
        response = _error_response(status, _http_message(status))
        if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.after_request
    def _messages_belong_to_their_response(response: Response) -> Response:
        """Every htmx swap also redraws ``#messages`` (out of band) with this response's own
        messages, so an earlier error or confirmation does not linger over a later success.
        Polls (``X-MES-Poll``) leave it alone; error responses aimed at ``#messages`` fill it."""
        if (not htmx or htmx.history_restore_request or request.headers.get("X-MES-Poll")
                or is_api_request() or response.status_code == 204 or response.direct_passthrough
                or response.mimetype != "text/html" or response.headers.get("HX-Retarget") == "#messages"
                or response.headers.get("HX-Redirect") or response.status_code >= 500):
            return response
        body = response.get_data(as_text=True)
        if 'id="messages"' in body:
            return response
        oob = render_template("_messages_oob.html", notices=notices(),
                              flashed=get_flashed_messages(category_filter=["notice"]))
        response.set_data(body + oob)
        return response

    @app.context_processor
    def _layout_context() -> dict[str, Any]:
        return {"can": can, "Permission": Permission, "notices": notices(), "plant_name": current_app.config["PLANT_NAME"],
                "current_locale": "zh_CN" if get_locale() and get_locale().language == "zh" else "en"}


def form_version() -> int:
    """The ``version`` a form was drawn with, for the optimistic-locking check of the save; an
    edit without it is refused (see :func:`mes.core.inputs.required_version`)."""
    return required_version()
