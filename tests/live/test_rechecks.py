"""The socket rechecker: every open socket's session in one statement, each with its verdict."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import event, select

from tests.support.factories import make_doctor_at, make_user
from webapp.common.clock import utcnow
from webapp.live.rechecks import check_viewers
from webapp.models import AuditEvent, Role, User, UserSession
from webapp.services.accounts.sessions import end_session, hash_token, open_session
from webapp.services.audit.events import NO_CONTEXT, AuditContext


def session_of(user: User) -> tuple[UserSession, str]:
    """A new server-side session of the user (uncommitted) and its cookie id."""
    return open_session(user, "127.0.0.1", "test")


def statements_during(db, action) -> tuple[list[str], object]:
    """The SQL statements `action()` sends, and what it returns."""
    sent = []

    def count(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        result = action()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return sent, result


def test_the_sessions_of_every_socket_are_read_in_one_statement(db):
    doctors = [make_user("DOCTOR"), make_user("DOCTOR"), make_doctor_at("BMC")]
    tokens = {session_of(doctor)[1] for doctor in doctors}
    db.session.commit()
    expected = sorted(doctor.organization.hospital_id for doctor in doctors)
    db.session.remove()

    opened_from = dict.fromkeys(tokens, NO_CONTEXT)
    sent, verdicts = statements_during(db, lambda: check_viewers(opened_from))

    assert len([s for s in sent if "user_session" in s]) == 1, sent
    assert all(s.lstrip().upper().startswith("SELECT") for s in sent), sent
    assert set(verdicts) == tokens
    assert all(reason is None for reason, _ in verdicts.values())
    hospitals = sorted(scope.hospital_id for _, scope in verdicts.values())
    assert hospitals == expected and hospitals[0] != hospitals[-1]


def test_each_session_gets_its_own_verdict_and_ended_ones_are_recorded(db):
    active, signed_out, idle, demoted = (make_user("DOCTOR") for _ in range(4))
    _, active_token = session_of(active)
    ended_row, ended_token = session_of(signed_out)
    end_session(ended_row, "signed_out")
    idle_row, idle_token = session_of(idle)
    idle_row.last_seen_at = utcnow() - current_app.config["IDLE_TIMEOUT"] - timedelta(seconds=1)
    _, demoted_token = session_of(demoted)
    demoted.role = db.session.scalar(select(Role).filter_by(name="AIPHAS"))
    db.session.commit()
    idle_id, idle_user, demoted_user = idle_row.id, idle.id, demoted.id
    db.session.remove()

    tokens = {active_token, ended_token, idle_token, demoted_token, "no-such-session"}
    where = AuditContext(address="203.0.113.7", path="/ws/costs?patient=12")
    verdicts = check_viewers(dict.fromkeys(tokens, where))

    reasons = {token: reason for token, (reason, _) in verdicts.items()}
    assert reasons == {
        active_token: None,
        ended_token: "signed_out",
        idle_token: "idle",
        demoted_token: "role_changed",
        "no-such-session": "signed_out",
    }
    assert verdicts[active_token][1] is not None
    assert all(scope is None for token, (_, scope) in verdicts.items() if token != active_token)
    idle_now = db.session.get(UserSession, idle_id)
    assert (idle_now.end_reason, idle_now.ended_at is not None) == ("idle", True)
    audited = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "session.ended")
    ).all()
    # As the HTTP guard would: the sessions that ran out are ended and audited, once each.
    # Where the socket was opened from, as when its own request thread wrote the row.
    assert sorted(
        (e.actor_user_id, e.details["reason"], e.ip_address, e.path) for e in audited
    ) == [
        (idle_user, "idle", "203.0.113.7", "/ws/costs?patient=12"),
        (demoted_user, "role_changed", "203.0.113.7", "/ws/costs?patient=12"),
    ]
    # Receiving pushes is not activity: the active session's last_seen_at is unchanged.
    active_row = db.session.scalars(
        select(UserSession).where(UserSession.token_hash == hash_token(active_token))
    ).one()
    assert active_row.last_seen_at == active_row.created_at
