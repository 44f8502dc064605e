"""Rate limits (Flask-Limiter) on sign-in, the second-factor step and the machine hooks.

Counters live in Redis, shared by every instance; while Redis is unreachable the limiter
counts in memory instead (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED) and goes back when it returns.
"""

from flask import current_app, request
from flask_limiter import Limiter
from flask_login import current_user

from webapp.web.http import client_address


def _setting(name: str):
    return lambda: current_app.config[name]


def address_key() -> str:
    """The client address (after the proxy rules), the key of per-address limits."""
    return f"address:{client_address() or 'unknown'}"


def email_key() -> str:
    """The email typed into the sign-in form, so one account cannot be guessed from many hosts."""
    return "email:" + (request.form.get("email") or "").strip().lower()[:254]


def user_key() -> str:
    """The signed-in account, for the second-factor step."""
    if not current_user.is_authenticated:
        return address_key()
    return f"user:{current_user.get_id().partition(':')[0]}"


def _route_limits() -> dict[str, list[tuple[str, object, str]]]:
    # endpoint -> (setting, key function, scope) for each limit on its POSTs.
    return {
        "auth.login": [
            ("LOGIN_RATE_LIMIT", address_key, "login-address"),
            ("LOGIN_EMAIL_RATE_LIMIT", email_key, "login-email"),
        ],
        "auth.second_factor": [
            ("LOGIN_RATE_LIMIT", address_key, "mfa-address"),
            ("LOGIN_EMAIL_RATE_LIMIT", user_key, "mfa-user"),
        ],
        "auth.enrol_second_factor": [
            ("LOGIN_RATE_LIMIT", address_key, "mfa-address"),
            ("LOGIN_EMAIL_RATE_LIMIT", user_key, "mfa-user"),
        ],
    }


def init_app(app) -> None:
    """Give this app a limiter of its own and put the limits on the sign-in views.

    One Limiter per app, not a module global: Flask-Limiter keeps its storage and fallback
    state on the instance, and each app (each test app too) has its own settings.
    """
    limiter = Limiter(key_func=address_key)
    limiter.init_app(app)
    app.extensions["aikey_limiter"] = limiter
    for endpoint, limits in _route_limits().items():
        view = app.view_functions[endpoint]
        for setting, key_func, scope in limits:
            view = limiter.limit(
                _setting(setting), key_func=key_func, methods=["POST"], scope=scope
            )(view)
        app.view_functions[endpoint] = view


def limit_blueprint(app, blueprint, setting: str) -> None:
    """Per address on every route of `blueprint` (the machine hooks)."""
    limiter = app.extensions["aikey_limiter"]
    limiter.limit(_setting(setting), key_func=address_key, scope=blueprint.name)(blueprint)
