"""Cloud Storage notifications delivered by Pub/Sub: parsing, handling and auditing one.

Shared by the push hook (`hooks/pubsub.py`) and the streaming pull (`flask pubsub pull`).
"""

import base64
import binascii
import json

from flask import current_app

from webapp.hooks.oidc import caller_email
from webapp.services.audit.events import record_event
from webapp.services.ingestion.storage_events import StorageNotification, handle_notification

REQUIRED_ATTRIBUTES = ("eventType", "bucketId", "objectId", "objectGeneration")


class MalformedMessage(ValueError):
    """The push envelope or its message is not what Pub/Sub and Cloud Storage send."""


def parse_message(attributes, data) -> StorageNotification:
    """A notification from a message's attributes and base64 data; MalformedMessage if bad."""
    if not isinstance(attributes, dict):
        raise MalformedMessage("message.attributes must be an object")
    missing = [name for name in REQUIRED_ATTRIBUTES if not attributes.get(name)]
    if missing:
        raise MalformedMessage(f"message.attributes lacks {', '.join(missing)}")
    if data is not None:
        try:
            resource = json.loads(base64.b64decode(data, validate=True))
        except (binascii.Error, TypeError, ValueError) as exc:
            raise MalformedMessage("message.data is not base64-encoded JSON") from exc
        if not isinstance(resource, dict):
            raise MalformedMessage("message.data is not a JSON object")
    return StorageNotification(
        event_type=str(attributes["eventType"]),
        bucket=str(attributes["bucketId"]),
        object_name=str(attributes["objectId"]),
        generation=str(attributes["objectGeneration"]),
    )


def parse_envelope(body) -> tuple[StorageNotification, dict]:
    """The notification and delivery facts of a push request body."""
    if not isinstance(body, dict) or not isinstance(body.get("message"), dict):
        raise MalformedMessage("the body must be a JSON object with a message object")
    message = body["message"]
    delivery = {
        "message_id": message.get("messageId") or message.get("message_id"),
        "subscription": body.get("subscription"),
        "delivery_attempt": body.get("deliveryAttempt"),
    }
    return parse_message(message.get("attributes"), message.get("data")), delivery


def process(note: StorageNotification, delivery: dict) -> str:
    """Handle one notification and audit it; shared by the push hook and `flask pubsub pull`."""
    outcome, run_id = handle_notification(note)
    details = {
        "hook": "pubsub.storage",
        "outcome": outcome,
        "run_id": run_id,
        "object": f"gs://{note.bucket}/{note.object_name}#{note.generation}",
        "event_type": note.event_type,
        **delivery,
    }
    record_event("hook.pubsub", details=details, actor_email=caller_email())
    current_app.logger.info("storage notification %s: %s", details["object"], outcome)
    return outcome
