"""Small request helpers shared by guards and error handlers."""

import re
from urllib.parse import unquote, urlsplit

from flask import request

JSON_PATH_PREFIXES = ("/hooks/", "/api/")
# Control characters (CR/LF split headers; browsers drop tab/newline, turning "/\t/x" into "//x").
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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
    """Accept only same-site relative paths as a post-login redirect target.

    Checked as given and once or twice percent-decoded, so encoded `//`, backslashes and
    CR/LF are refused too.
    """
    if not target or len(target) > 2000:
        return False
    decoded = unquote(unquote(target))
    for candidate in (target, decoded):
        if not candidate.startswith("/") or candidate.startswith("//"):
            return False
        if "\\" in candidate or _CONTROL.search(candidate):
            return False
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc:
            return False
    return True


def client_address() -> str | None:
    """The caller's address; ProxyFix has already taken it from the trusted proxies' hops."""
    return (request.remote_addr or "")[:64] or None
