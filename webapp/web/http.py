"""Small request helpers shared by guards and error handlers."""

from urllib.parse import urlsplit

from flask import request

JSON_PATH_PREFIXES = ("/hooks/", "/api/")


def wants_json() -> bool:
    """True for machine callers: JSON bodies, JSON Accept headers or machine-only paths."""
    if request.path.startswith(JSON_PATH_PREFIXES) or request.is_json or is_websocket_upgrade():
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def is_websocket_upgrade() -> bool:
    """True for a WebSocket handshake, which can follow no redirect and read no HTML."""
    return request.headers.get("Upgrade", "").lower() == "websocket"


def is_safe_next(target: str | None) -> bool:
    """Accept only same-site relative paths as a post-login redirect target."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and "\\" not in target


def client_address() -> str | None:
    """The caller's address (Cloud Run puts the client first in X-Forwarded-For)."""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if forwarded:
        return forwarded.split(",")[0].strip()[:64]
    return request.remote_addr
