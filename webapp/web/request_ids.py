"""A request id on every request: taken from a sane X-Request-Id or made here, echoed back."""

import re
import uuid

from flask import g, has_request_context, request

HEADER = "X-Request-Id"
# Letters, digits and - _ . : only, so an id can be logged and shown without escaping trouble.
_SANE = re.compile(r"[A-Za-z0-9._:-]{8,64}")


def request_id() -> str | None:
    """This request's id (None outside a request)."""
    if not has_request_context():
        return None
    if "request_id" not in g:
        incoming = request.headers.get(HEADER, "")
        g.request_id = incoming if _SANE.fullmatch(incoming) else uuid.uuid4().hex
    return g.request_id


def _assign() -> None:
    request_id()  # fixed at the start, so every log line of the request can carry it


def _echo(response):
    response.headers[HEADER] = request_id()
    return response


def init_app(app) -> None:
    """Give every response its request id."""
    app.before_request(_assign)
    app.after_request(_echo)
