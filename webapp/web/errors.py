"""Error pages for people, JSON bodies for machines."""

from flask import current_app, jsonify, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from webapp.extensions import db
from webapp.web.http import wants_json
from webapp.web.request_id import current as request_id

FRIENDLY = {
    400: "The request could not be understood.",
    403: "You do not have permission to open this page.",
    404: "There is nothing at this address.",
    405: "This address does not accept that kind of request.",
    413: "The request is too large.",
    429: "Too many attempts in a short time. Wait a minute, then try again.",
    500: "Something went wrong on our side. The team has been told.",
    503: "The service is busy. Try again in a few seconds.",
}
# Seconds a client (or Cloud Run's load balancer) is asked to wait after a 503.
RETRY_AFTER_SECONDS = 5


def render_error(code: int, message: str):
    """One error response, negotiated between HTML and JSON."""
    if wants_json():
        return jsonify(error=message, status=code, request_id=request_id()), code
    page = render_template("errors/error.html", code=code, message=message, request_id=request_id())
    return page, code


def handle_http_error(error: HTTPException):
    """Any HTTP error raised by abort() or routing."""
    return render_error(error.code or 500, FRIENDLY.get(error.code, error.description))


def handle_csrf_error(error: CSRFError):
    """A form posted without a valid CSRF token."""
    return render_error(400, "This form has expired or did not come from this site. Reload it.")


def handle_pool_exhausted(error: PoolTimeout):
    """Every database connection of this worker stayed busy past the pool's timeout: 503."""
    current_app.logger.warning("database pool exhausted, request id %s", request_id())
    db.session.rollback()
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if wants_json():
        return jsonify(error=FRIENDLY[503], status=503, request_id=request_id()), 503, retry
    # Straight from Jinja: Flask's context processors would ask who is signed in, which takes
    # the very connection there is none of.
    template = current_app.jinja_env.get_template("errors/busy.html")
    page = template.render(message=FRIENDLY[503], request_id=request_id())
    return page, 503, retry


def handle_unexpected(error: Exception):
    """An uncaught exception: log it with its traceback and request id, answer 500."""
    current_app.logger.error("unhandled error, request id %s", request_id(), exc_info=error)
    db.session.rollback()
    return render_error(500, FRIENDLY[500])


def init_app(app):
    """Register the handlers."""
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(PoolTimeout, handle_pool_exhausted)
    if not app.config.get("PROPAGATE_EXCEPTIONS"):
        app.register_error_handler(Exception, handle_unexpected)
