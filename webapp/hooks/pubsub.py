"""POST /hooks/pubsub/storage: Pub/Sub pushes Cloud Storage notifications here."""

from flask import jsonify, request

from webapp.auth.decorators import machine_only
from webapp.extensions import db
from webapp.hooks import bp
from webapp.hooks.messages import MalformedMessage, parse_envelope, process
from webapp.hooks.oidc import caller_email, oidc_required
from webapp.services.audit.events import record_event


@bp.route("/pubsub/storage", methods=["POST"])
@machine_only
@oidc_required("pubsub.storage")
def pubsub_storage():
    """Acknowledge with 204 once handled and committed; 400 for what retries cannot fix."""
    try:
        note, delivery = parse_envelope(request.get_json(force=True, silent=True))
    except MalformedMessage as exc:
        db.session.rollback()
        details = {"hook": "pubsub.storage", "outcome": "malformed", "reason": str(exc)}
        record_event("hook.pubsub", details=details, actor_email=caller_email())
        return jsonify(error="malformed push envelope", reason=str(exc), status=400), 400
    process(note, delivery)
    return "", 204
