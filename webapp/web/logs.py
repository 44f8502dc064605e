"""Log lines: JSON with Cloud Logging's fields in production, readable text in development.

Every line of a request carries its request id, its Cloud Trace and the signed-in user's id; no
line carries a query string (searches put patient names there) or any other patient data.
"""

import logging
import re
import sys

from flask import Flask, g, has_app_context
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter

from webapp.web import request_id

TRACE_FIELD = "logging.googleapis.com/trace"
SPAN_FIELD = "logging.googleapis.com/spanId"
SAMPLED_FIELD = "logging.googleapis.com/trace_sampled"
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"
# Loggers of the servers that write request lines; their query strings are cut.
REQUEST_LINE_LOGGERS = ("werkzeug", "gunicorn.access")
QUERY_STRING = re.compile(r"\?[^\s\"']*")


class _StandardStream(logging.StreamHandler):
    """Writes to whatever sys.stdout / sys.stderr is at the time of the line."""

    def __init__(self, name: str):
        super().__init__()
        self._name = name

    @property
    def stream(self):
        """The standard stream as it is now (test capture and reloads replace it)."""
        return getattr(sys, self._name)

    @stream.setter
    def stream(self, _value):
        pass  # always the current standard stream


class RequestContext(logging.Filter):
    """Adds the request id, the trace and the user id to records made during a request."""

    def __init__(self, project: str | None):
        super().__init__()
        self.project = project

    def filter(self, record: logging.LogRecord) -> bool:
        """Attach the request's fields to the record; never drops it."""
        record.request_id = request_id.current() or "-"
        trace = request_id.current_trace()
        if trace and self.project:
            setattr(record, TRACE_FIELD, f"projects/{self.project}/traces/{trace[0]}")
            if trace[1]:
                setattr(record, SPAN_FIELD, trace[1])
            setattr(record, SAMPLED_FIELD, trace[2])
        user_id = _signed_in_user_id()
        if user_id is not None:
            record.user_id = user_id
        return True


def _signed_in_user_id() -> int | None:
    # Only a user Flask-Login has already loaded: a log line never queries the database.
    if not has_app_context():
        return None
    user = g.get("_login_user")
    return getattr(user, "id", None)


class NoQueryStrings(logging.Filter):
    """Cuts query strings out of request lines (they hold search terms, i.e. patient names)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message without query strings; never drops it."""
        message = record.getMessage()
        if "?" in message:
            record.msg, record.args = QUERY_STRING.sub("", message), ()
        return True


class CloudLoggingFormatter(JsonFormatter):
    """One JSON object a line, with the field names Cloud Logging reads."""

    def __init__(self):
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "severity", "name": "logger"},
            timestamp="time",
        )

    def process_log_record(self, log_record: dict) -> dict:
        """Drop the placeholder request id of lines made outside a request."""
        if log_record.get("request_id") == "-":
            del log_record["request_id"]
        return log_record


def _handler(production: bool) -> logging.Handler:
    handler = _StandardStream("stdout" if production else "stderr")
    handler.setFormatter(CloudLoggingFormatter() if production else _text_formatter())
    handler.aikey = True  # ours: replaced, never duplicated, when another app is made
    return handler


def _text_formatter() -> logging.Formatter:
    return logging.Formatter(TEXT_FORMAT, defaults={"request_id": "-"})


def configure(production: bool, project: str | None = None, level: int = logging.INFO) -> None:
    """Send every logger's records through one handler on the root logger."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "aikey", False)]:
        root.removeHandler(old)
    handler = _handler(production)
    handler.addFilter(RequestContext(project))
    handler.addFilter(NoQueryStrings())
    root.addHandler(handler)
    root.setLevel(level)
    for name in REQUEST_LINE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, NoQueryStrings) for f in logger.filters):
            logger.addFilter(NoQueryStrings())
    gunicorn = logging.getLogger("gunicorn.error")
    gunicorn.handlers, gunicorn.propagate = [], True  # one format for the server's lines too


def init_app(app: Flask) -> None:
    """Log the app's lines through the root handler, in the deployment's format."""
    app.logger.removeHandler(default_handler)
    configure(app.config.get("AIKEY_PRODUCTION", False), app.config.get("GCP_PROJECT"))
