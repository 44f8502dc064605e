"""`flask pubsub pull SUBSCRIPTION`: the push hook's handler fed by a streaming pull."""

import contextlib
import threading

import click
from flask import current_app
from flask.cli import AppGroup

from webapp.extensions import db
from webapp.hooks.messages import MalformedMessage, parse_message, process

pubsub_cli = AppGroup("pubsub", help="Cloud Storage notifications through Pub/Sub.")


def handle_message(app, message) -> str:
    """Process one pulled message; ack after the commit, nack on any failure to retry it."""
    with app.app_context():
        try:
            note = parse_message(dict(message.attributes), _data_b64(message.data))
            delivery = {
                "message_id": message.message_id,
                "subscription": "pull",
                "delivery_attempt": getattr(message, "delivery_attempt", None),
            }
            outcome = process(note, delivery)
        except MalformedMessage as exc:
            db.session.rollback()
            app.logger.warning("dropping malformed message %s: %s", message.message_id, exc)
            message.ack()  # retrying cannot fix it; the push hook answers 400 likewise
            return "malformed"
        except Exception:
            db.session.rollback()
            app.logger.exception("message %s failed; it will be redelivered", message.message_id)
            message.nack()
            return "failed"
        finally:
            db.session.remove()
        message.ack()
        return outcome


def _data_b64(data: bytes | None) -> str | None:
    import base64

    return base64.b64encode(data).decode("ascii") if data else None


@pubsub_cli.command("pull")
@click.argument("subscription")
@click.option("--max-messages", default=4, show_default=True, help="Loads handled at once.")
def pull_command(subscription: str, max_messages: int) -> None:
    """Pull storage notifications from SUBSCRIPTION (projects/P/subscriptions/S) until Ctrl-C."""
    from google.cloud import pubsub_v1

    app = current_app._get_current_object()
    subscriber = pubsub_v1.SubscriberClient()
    flow = pubsub_v1.types.FlowControl(max_messages=max_messages)
    future = subscriber.subscribe(
        subscription, callback=lambda m: handle_message(app, m), flow_control=flow
    )
    click.echo(f"Listening on {subscription}; Ctrl-C to stop.")
    stopped = threading.Event()
    try:
        future.result()
    except KeyboardInterrupt:
        stopped.set()
    finally:
        future.cancel()  # stop pulling; messages in flight finish before result() returns
        with contextlib.suppress(Exception):
            future.result(timeout=30)
        subscriber.close()
    if stopped.is_set():
        click.echo("Stopped.")
