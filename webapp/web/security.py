"""Security headers on every response."""

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)


def add_security_headers(response):
    """Forbid inline script, framing and MIME sniffing; keep referrers on this site."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app):
    """Attach the headers to every response."""
    app.after_request(add_security_headers)
    if app.config.get("AIKEY_PRODUCTION"):
        app.after_request(_strict_transport)


def _strict_transport(response):
    response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response
