"""Tells audit rows who the signed-in user is and where the request came from."""

from flask import has_request_context, request
from flask_login import current_user

from webapp.services.audit.events import NO_CONTEXT, AuditContext, set_context_provider
from webapp.services.audit.sealing import seal_after_requests
from webapp.web.http import client_address


def request_context() -> AuditContext:
    """The actor, client address and path of the current request (nothing outside one)."""
    if not has_request_context():
        return NO_CONTEXT
    actor = current_user if current_user and current_user.is_authenticated else None
    return AuditContext(
        actor=actor, address=client_address(), path=request.full_path.rstrip("?")[:500]
    )


def init_app(app) -> None:
    """Register the provider for this app, and sealing after requests."""
    set_context_provider(app, request_context)

    @app.after_request
    def seal_when_sent(response):
        # Once the response is sent, not before: the client never waits for the chain.
        response.call_on_close(lambda: seal_after_requests(app))
        return response
