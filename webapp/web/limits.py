"""What the app believes about the network: trusted proxy hops and the largest request body."""

from flask import abort, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix


def refuse_large_bodies():
    """413 before any view reads a body whose declared length is over MAX_CONTENT_LENGTH.

    Bodies without a length (chunked) are cut off by werkzeug's limited stream as they are read.
    """
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and (request.content_length or 0) > limit:
        abort(413)


def refuse_nul_characters():
    """400 for a NUL character in a submitted form: no text column can store one."""
    if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return
    if any("\x00" in value for value in request.form.values()):
        abort(400)


def init_app(app) -> None:
    """Trust exactly TRUSTED_PROXY_HOPS proxies for the client address and scheme; cap bodies."""
    hops = app.config.get("TRUSTED_PROXY_HOPS", 0)
    if hops:
        # X-Forwarded-For's last `hops` entries were added by our proxies; earlier ones are the
        # client's to forge, so request.remote_addr becomes the entry our outermost proxy saw.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.before_request(refuse_large_bodies)
    app.before_request(refuse_nul_characters)
