"""Server-side sessions: open, check, touch and end them (the cookie carries only the id)."""

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import Select, String, bindparam, cast, func, select, update
from sqlalchemy.orm import joinedload

from webapp.common.clock import as_utc, utcnow
from webapp.extensions import db
from webapp.models import (
    AppSetting,
    BreakGlassGrant,
    Permission,
    Role,
    User,
    UserSession,
    role_permission,
)

# Why a session ended, as stored in end_reason and told to the user on the sign-in page.
END_REASONS = {
    "signed_out": "You signed out.",
    "idle": "You were signed out after a period without activity.",
    "max_age": "Your session reached its maximum length. Please sign in again.",
    "password_changed": "Your password was changed, which ends your other sessions.",
    "password_reset": "Your password was reset by an administrator.",
    "deactivated": "This account has been deactivated.",
    "role_changed": "Your role changed. Please sign in again.",
    "ended_by_user": "This session was ended from your sessions page.",
    "ended_by_admin": "An administrator ended your sessions.",
    "mfa_reset": "Your second factor was reset by an administrator.",
}
# A session's last_seen_at is written at most this often (and at most every quarter idle limit).
TOUCH_INTERVAL = timedelta(minutes=1)


def hash_token(token: str) -> str:
    """SHA-256 hex of a session id, the only form stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(user: User, address: str | None, agent: str | None) -> tuple[UserSession, str]:
    """Record a new session for the user; returns it and the random id for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        token_hash=hash_token(token),
        user=user,
        created_at=now,
        last_seen_at=now,
        client_address=(address or "")[:64] or None,
        user_agent=(agent or "")[:255] or None,
    )
    db.session.add(row)
    db.session.flush()
    return row, token


def find_session_and_setting(
    token: str | None, setting_key: str | None
) -> tuple[UserSession | None, str | None]:
    """The session a cookie's id names, and the value of one app setting, in one statement.

    The user, role and organization come along, and so do the role's permission names and the
    patients of the user's unexpired grants (the hospital scope): every guarded request needs
    them, and so does the setting a guard reads on every request (the doctors' second-factor
    rule).
    """
    if not _well_formed(token):
        return None, None
    params = {"token_hash": hash_token(token), "setting_key": setting_key}
    found = db.session.execute(_session_statement(), params).unique().one_or_none()
    if found is None:
        return None, None
    row, setting, permissions, granted = found
    return _with_access(row, permissions, granted), setting


def find_sessions(tokens: Iterable[str]) -> dict[str, UserSession]:
    """The sessions these cookie ids name, ended or not, in one statement; unknown ids are left
    out. For re-checking every open socket of a process at once (webapp.live.rechecks)."""
    by_hash = {hash_token(token): token for token in tokens if _well_formed(token)}
    if not by_hash:
        return {}
    params = {"token_hashes": list(by_hash), "setting_key": None}
    rows = db.session.execute(_session_statement(many=True), params).unique().all()
    return {
        by_hash[row.token_hash]: _with_access(row, permissions, granted)
        for row, _, permissions, granted in rows
    }


def _well_formed(token) -> bool:
    return bool(token) and isinstance(token, str) and len(token) <= 128


def _with_access(row: UserSession, permissions: str | None, granted: str | None) -> UserSession:
    # The role's permission names and the granted patients, read with the session.
    if row.user is not None:
        row.user.permissions_loaded = frozenset(permissions.split(",") if permissions else ())
        ids = granted.split(",") if granted else ()
        row.user.grant_patient_ids_loaded = frozenset(int(pid) for pid in ids)
    return row


@cache
def _session_statement(many: bool = False) -> Select:
    # Built once: every request runs it, and a statement object keeps its cache key, so only
    # the parameters change. A missing setting (or setting_key None) reads as NULL. "now" is
    # taken when the statement runs. Permissions and grants come as one text each from scalar
    # subqueries, not as joined rows: PostgreSQL planned the seven-way join in 0.4-0.6 ms on
    # every request (bench/page_sql.py), and the ORM built an object per joined row.
    setting = (
        select(AppSetting.value).where(AppSetting.key == bindparam("setting_key")).scalar_subquery()
    )
    permissions = (
        select(func.aggregate_strings(Permission.name, ","))
        .select_from(User)
        .join(role_permission, role_permission.c.role_id == User.role_id)
        .join(Permission, Permission.id == role_permission.c.permission_id)
        .where(User.id == UserSession.user_id)
        .correlate(UserSession)
        .scalar_subquery()
    )
    granted = (
        select(func.aggregate_strings(cast(BreakGlassGrant.patient_id, String), ","))
        .where(
            BreakGlassGrant.user_id == UserSession.user_id,
            BreakGlassGrant.expires_at > bindparam("now", callable_=utcnow),
        )
        .correlate(UserSession)
        .scalar_subquery()
    )
    if many:
        match = UserSession.token_hash.in_(bindparam("token_hashes", expanding=True))
    else:
        match = UserSession.token_hash == bindparam("token_hash")
    return (
        select(UserSession, setting, permissions, granted)
        .where(match)
        # The role and organization load with the user; the role's own permissions list is
        # not read (the names came above), so it is not loaded either.
        .options(joinedload(UserSession.user).joinedload(User.role).lazyload(Role.permissions))
    )


def limits() -> tuple[timedelta, timedelta]:
    """The idle limit and the maximum age configured for this app."""
    return current_app.config["IDLE_TIMEOUT"], current_app.config["SESSION_MAX_AGE"]


def deadline(row: UserSession) -> datetime:
    """When the session ends by itself: idle limit or maximum age, whichever comes first."""
    idle, max_age = limits()
    return min(as_utc(row.last_seen_at) + idle, as_utc(row.created_at) + max_age)


def end_reason_now(row: UserSession | None, now: datetime | None = None) -> str | None:
    """Why the session can no longer be used, or None while it can."""
    if row is None:
        return "signed_out"
    if row.ended_at is not None:
        return row.end_reason or "signed_out"
    if not row.user.active:
        return "deactivated"
    now = now or utcnow()
    idle, max_age = limits()
    if now - as_utc(row.created_at) > max_age:
        return "max_age"
    if now - as_utc(row.last_seen_at) > idle:
        return "idle"
    return None


def touch(row: UserSession, now: datetime | None = None) -> None:
    """Note activity, writing last_seen_at only when the stored value is stale enough."""
    now = now or utcnow()
    interval = min(TOUCH_INTERVAL, limits()[0] / 4)
    if now - as_utc(row.last_seen_at) >= interval:
        row.last_seen_at = now
        db.session.commit()


def end_session(row: UserSession, reason: str) -> None:
    """End one session (a no-op if it already ended); the caller commits."""
    if row.ended_at is None:
        row.ended_at = utcnow()
        row.end_reason = reason


def end_sessions(user: User, reason: str, except_current: UserSession | None = None) -> int:
    """End every open session of the user but `except_current`; returns how many ended."""
    stmt = (
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
        .execution_options(synchronize_session="fetch")
    )
    if except_current is not None:
        stmt = stmt.where(UserSession.id != except_current.id)
    return db.session.execute(stmt).rowcount


def sessions_of(user: User, limit: int = 50) -> list[UserSession]:
    """The user's sessions, open ones first, newest first."""
    stmt = (
        select(UserSession)
        .where(UserSession.user_id == user.id)
        .order_by(UserSession.ended_at.is_not(None), UserSession.created_at.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def mark_second_factor(row: UserSession) -> None:
    """Record that this session passed the second factor (the MFA step calls this)."""
    row.second_factor_at = utcnow()


def second_factor_passed(row: UserSession | None) -> bool:
    """True when this session passed the second factor."""
    return row is not None and row.second_factor_at is not None
