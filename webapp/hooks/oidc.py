"""Verifying the Google-signed OIDC token a Scheduler job or a push subscription sends."""

import threading
import time
from dataclasses import dataclass
from functools import wraps

import google.auth.exceptions
import google.auth.transport.requests
import requests
from flask import current_app, g, jsonify, request
from google.oauth2 import id_token

from webapp.services.audit.events import record_event

ISSUERS = ("accounts.google.com", "https://accounts.google.com")
DEFAULT_CERTS_TTL = 300


class TokenRefused(Exception):
    """The bearer token is missing or does not prove a trusted caller."""


@dataclass
class CachedResponse:
    """Enough of a google.auth transport response to be replayed from the cache."""

    status: int
    headers: dict
    data: bytes


class CachingRequest:
    """A google-auth transport that keeps GET responses (the certificates) for their max-age."""

    def __init__(self):
        self._inner = google.auth.transport.requests.Request(session=requests.Session())
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, CachedResponse]] = {}

    def __call__(self, url, method="GET", body=None, headers=None, timeout=10, **kwargs):
        """Answer a GET from the cache while fresh; fetch it otherwise."""
        if method != "GET":
            return self._inner(url, method, body, headers, timeout, **kwargs)
        with self._lock:
            hit = self._cache.get(url)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        response = self._inner(url, method, body, headers, timeout, **kwargs)
        cached = CachedResponse(response.status, dict(response.headers), response.data)
        if response.status == 200:
            with self._lock:
                self._cache[url] = (time.monotonic() + _max_age(cached.headers), cached)
        return cached

    def forget(self, url: str) -> None:
        """Drop a cached response, e.g. when a token names a key id the cache lacks."""
        with self._lock:
            self._cache.pop(url, None)


def _max_age(headers: dict) -> int:
    control = {k.lower(): v for k, v in headers.items()}.get("cache-control", "")
    for part in control.split(","):
        name, _, value = part.strip().partition("=")
        if name == "max-age" and value.isdigit():
            return min(int(value), 24 * 3600)
    return DEFAULT_CERTS_TTL


_transport = CachingRequest()


def verify_bearer(header: str | None) -> dict:
    """The claims of a valid hook token; raises TokenRefused with the reason otherwise."""
    config = current_app.config
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRefused("missing bearer token")
    if not config.get("HOOK_AUDIENCE"):
        raise TokenRefused("HOOK_AUDIENCE is not configured")
    claims = _verify(token.strip(), config["OIDC_CERTS_URL"], config["HOOK_AUDIENCE"])
    if claims.get("iss") not in ISSUERS:
        raise TokenRefused("wrong issuer")
    if claims.get("email") not in config["HOOK_SERVICE_ACCOUNTS"]:
        raise TokenRefused("service account not allowed")
    if claims.get("email_verified") is not True:
        raise TokenRefused("email not verified")
    return claims


def _verify(token: str, certs_url: str, audience: str) -> dict:
    try:
        return id_token.verify_token(token, _transport, audience=audience, certs_url=certs_url)
    except google.auth.exceptions.TransportError:
        raise
    except (ValueError, google.auth.exceptions.GoogleAuthError) as exc:
        if "not found" in str(exc).lower() and "key id" in str(exc).lower():
            _transport.forget(certs_url)  # Google rotated its keys: fetch them again once
            try:
                return id_token.verify_token(
                    token, _transport, audience=audience, certs_url=certs_url
                )
            except (ValueError, google.auth.exceptions.GoogleAuthError) as again:
                raise TokenRefused(f"invalid token: {again}") from again
        raise TokenRefused(f"invalid token: {exc}") from exc


def oidc_required(hook: str):
    """Refuse a hook call without a valid token: 401 JSON and an audit row."""

    def decorator(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            try:
                g.hook_claims = verify_bearer(request.headers.get("Authorization"))
            except TokenRefused as refused:
                record_event("hook.refused", details={"hook": hook, "reason": str(refused)[:300]})
                return jsonify(error="unauthorized", reason=str(refused)[:300], status=401), 401
            except google.auth.exceptions.TransportError as exc:
                current_app.logger.error("cannot fetch OIDC certificates: %s", exc)
                return jsonify(error="certificates unavailable", status=503), 503
            return view(*args, **kwargs)

        return guarded

    return decorator


def caller_email() -> str | None:
    """The service account that signed the current hook call."""
    return getattr(g, "hook_claims", {}).get("email")
