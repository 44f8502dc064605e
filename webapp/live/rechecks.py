"""The session behind every open socket of this process, re-checked in one statement a round.

A check per socket would cost a session lookup per socket every LIVE_RECHECK_SECONDS, however
quiet the sockets are (100 a second with 200 open), and pushes would wait behind them (README
"Live updates"). One thread per process reads the sessions of all its sockets at once, ends
those that idled or aged out as the HTTP guard would, and closes their sockets or refreshes
their scope.
"""

import threading

from flask import Flask

from webapp.extensions import db
from webapp.live.hub import Hub, Subscription
from webapp.live.sender import close
from webapp.models.permissions import PATIENTS_READ
from webapp.services.accounts.sessions import end_reason_now, end_session, find_sessions
from webapp.services.audit.events import NO_CONTEXT, AuditContext, record_event
from webapp.services.patients.scope import Scope, scope_of

POLICY_VIOLATION = 1008


def check_viewers(
    opened_from: dict[str, AuditContext],
) -> dict[str, tuple[str | None, Scope | None]]:
    """For each session id: why its sockets must close (session ended, idled or aged out, role
    changed) and None, or None and the doctor's current scope (hospital, grants).

    `opened_from` maps each session id to where one of its sockets was opened (client address,
    path), which the audit row of a session ended here records. Never writes last_seen:
    receiving pushes is not activity.
    """
    try:
        rows = find_sessions(opened_from)
        verdicts, ended = {}, []
        for token, where in opened_from.items():
            row = rows.get(token)
            reason = end_reason_now(row)
            if reason is None and not row.user.has_permission(PATIENTS_READ):
                reason = "role_changed"
            if reason is not None and row is not None and row.ended_at is None:
                ended.append((row, reason, where))
            verdicts[token] = (reason, None if reason else scope_of(row.user))
        # Idle or too old: ended and audited as the HTTP guard would, in one commit.
        for row, reason, where in ended:
            end_session(row, reason)
            record_event(
                "session.ended",
                actor=row.user,
                details={"reason": reason},
                commit=False,
                context=where,
            )
        if ended:
            db.session.commit()
        return verdicts
    finally:
        db.session.remove()  # a pooled connection is held only for the round


class Rechecker(threading.Thread):
    """Every `interval` seconds, re-checks the sessions of the hub's open sockets."""

    def __init__(self, app: Flask, hub: Hub, interval: float):
        super().__init__(name="live-rechecks", daemon=True)
        self.app = app
        self.hub = hub
        self.interval = interval
        self.stopping = threading.Event()

    def run(self) -> None:
        """Re-check until stopped; a failed round is logged and the next one tries again."""
        while not self.stopping.wait(self.interval):
            try:
                self.recheck()
            except Exception:  # a database hiccup must not stop every later check
                self.app.logger.exception("live: session recheck failed")

    def recheck(self) -> None:
        """One round: close the sockets whose session ended, give the others their scope."""
        open_now = [s for s in self.hub.subscriptions() if s.ws is not None and not s.closed]
        if not open_now:
            return
        opened_from = {s.token: s.opened_from or NO_CONTEXT for s in open_now}
        with self.app.app_context():
            verdicts = check_viewers(opened_from)
        for subscription in open_now:
            apply_verdict(subscription, *verdicts[subscription.token])

    def stop(self) -> None:
        """Stop re-checking (tests, shutdown)."""
        self.stopping.set()
        self.join(timeout=self.interval + 5)


def apply_verdict(subscription: Subscription, reason: str | None, scope: Scope | None) -> None:
    """Close the socket with the reason (live.js sends the page to /login), or swap its scope."""
    if reason:
        close(subscription, POLICY_VIOLATION, reason)
    else:
        subscription.scope = scope
