"""Every guard a view can carry, in one place.

Each guard also tags the view with `access` so the route/role test can prove that no route
was left without one.
"""

from functools import wraps

from flask import abort, request
from flask_login import current_user

from webapp.extensions import login_manager
from webapp.services.audit.events import record_event


def public(view):
    """Mark a view as reachable without signing in."""
    view.access = ("public", None)
    return view


def signed_in(view):
    """Require any signed-in user."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    guarded.access = ("signed_in", None)
    return guarded


def permission_required(permission: str):
    """Require a signed-in user whose role grants `permission`; record every refusal."""

    def decorator(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_permission(permission):
                record_event(
                    "access.denied",
                    details={"permission": permission, "method": request.method},
                )
                abort(403)
            return view(*args, **kwargs)

        guarded.access = ("permission", permission)
        return guarded

    return decorator


def machine_only(view):
    """Mark a view as a machine hook whose own token check guards it (no session)."""
    view.access = ("machine", None)
    return view
