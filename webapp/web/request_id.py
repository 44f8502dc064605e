"""One id per request: taken from X-Request-Id or Cloud Run's trace header, or made here.

It is echoed in the X-Request-Id response header and put on every log line of the request, so
a person can quote it and an operator can find the request's lines in Cloud Logging.
"""

import re
import uuid

from flask import Flask, g, has_request_context, request

HEADER = "X-Request-Id"
TRACE_HEADER = "X-Cloud-Trace-Context"
# Ids we accept from outside: short, and nothing a log viewer or a header could trip on.
ACCEPTED = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
TRACE = re.compile(r"^([0-9a-fA-F]{32})(?:/(\d+))?(?:;o=([01]))?$")


def parse_trace(value: str | None) -> tuple[str, str | None, bool] | None:
    """(trace id, span id, sampled) from an X-Cloud-Trace-Context value; None if malformed."""
    match = TRACE.match((value or "").strip())
    if match is None:
        return None
    return match.group(1).lower(), match.group(2), match.group(3) == "1"


def current() -> str | None:
    """The id of the request being handled; None outside a request."""
    if not has_request_context():
        return None
    if "request_id" not in g:
        g.request_id = _incoming_id()
    return g.request_id


def current_trace() -> tuple[str, str | None, bool] | None:
    """The Cloud Trace context of the request being handled, when the caller sent one."""
    if not has_request_context():
        return None
    return parse_trace(request.headers.get(TRACE_HEADER))


def _incoming_id() -> str:
    given = request.headers.get(HEADER, "")
    if ACCEPTED.match(given):
        return given
    trace = current_trace()
    return trace[0] if trace else uuid.uuid4().hex


def _assign() -> None:
    current()  # fixed before the view runs, so every line of the request carries it


def _echo(response):
    response.headers[HEADER] = current()
    return response


def init_app(app: Flask) -> None:
    """Give every response the request's id."""
    app.before_request(_assign)
    app.after_request(_echo)
