"""Account changes made by AIPHAS staff, each with its audit row and the last-AIPHAS rules."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from webapp.common.clock import as_utc
from webapp.extensions import db
from webapp.models import Organization, Role, User
from webapp.models.permissions import AIPHAS, DOCTOR
from webapp.services.accounts.passwords import password_problems, temporary_password
from webapp.services.accounts.sessions import end_sessions
from webapp.services.audit.events import record_event

DUPLICATE_EMAIL = "Another account already uses this email address."
ORGANIZATION_REQUIRED = "Doctors must belong to an organization."


class AccountError(Exception):
    """A change refused by a rule; `field` names the form field it belongs to, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class AccountDetails:
    """What an administrator can set on an account."""

    name: str
    email: str
    role: Role
    organization: Organization | None


def normalize_email(email: str) -> str:
    """Emails are compared and stored trimmed and lower-case."""
    return (email or "").strip().lower()


def email_taken(email: str, exclude_id: int | None = None) -> bool:
    """True when another account already uses the email (case-insensitive)."""
    stmt = select(User.id).where(func.lower(User.email) == normalize_email(email))
    if exclude_id is not None:
        stmt = stmt.where(User.id != exclude_id)
    return db.session.scalar(stmt.limit(1)) is not None


def _active_aiphas_ids() -> list[int]:
    # Locks the active AIPHAS rows so two administrators removing each other cannot both win.
    stmt = (
        select(User.id)
        .join(Role, User.role_id == Role.id)
        .where(Role.name == AIPHAS, User.active.is_(True))
        .with_for_update(of=User)
    )
    return list(db.session.scalars(stmt))


def _check_keeps_an_aiphas(user: User, actor: User, verb: str) -> None:
    if user.role.name != AIPHAS or not user.active:
        return
    if actor is not None and user.id == actor.id:
        raise AccountError(f"You cannot {verb} your own AIPHAS account.", "role")
    if _active_aiphas_ids() == [user.id]:
        raise AccountError(f"The last active AIPHAS account cannot be {verb}d.", "role")


def _check_details(details: AccountDetails, exclude_id: int | None = None) -> None:
    if email_taken(details.email, exclude_id):
        raise AccountError(DUPLICATE_EMAIL, "email")
    if details.role.name == DOCTOR and details.organization is None:
        raise AccountError(ORGANIZATION_REQUIRED, "organization")


def _commit_or_duplicate() -> None:
    try:
        db.session.commit()
    except IntegrityError as error:
        # The unique email index caught a concurrent create that passed the first check.
        db.session.rollback()
        raise AccountError(DUPLICATE_EMAIL, "email") from error


def create_account(details: AccountDetails, password: str | None = None) -> tuple[User, str | None]:
    """Create an account; without a password, generate a temporary one and return it once."""
    details.email = normalize_email(details.email)
    _check_details(details)
    temporary = None
    if password is None:
        temporary = password = temporary_password()
    elif problems := password_problems(password, details.email, details.name):
        raise AccountError(" ".join(problems), "password")
    user = User(
        name=details.name.strip(),
        email=details.email,
        role=details.role,
        organization=details.organization,
        must_change_password=temporary is not None,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record_event(
        "user.created",
        target_user_id=user.id,
        details={**_snapshot(user), "temporary_password": temporary is not None},
        commit=False,
    )
    _commit_or_duplicate()
    return user, temporary


def _snapshot(user: User) -> dict:
    return {
        "name": user.name,
        "email": user.email,
        "role": user.role.name,
        "organization": user.organization.label if user.organization else None,
    }


def update_account(user: User, details: AccountDetails, actor: User) -> dict:
    """Apply edited details; returns {field: [old, new]} for what changed."""
    details.email = normalize_email(details.email)
    _check_details(details, exclude_id=user.id)
    if details.role.id != user.role_id:
        _check_keeps_an_aiphas(user, actor, "demote")
    before = _snapshot(user)
    user.name = details.name.strip()
    user.email = details.email
    user.role = details.role
    user.organization = details.organization
    after = _snapshot(user)
    changes = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
    if changes:
        if "role" in changes:
            # New permissions take effect through a fresh sign-in, not a stale session.
            end_sessions(user, "role_changed")
        record_event(
            "user.updated", target_user_id=user.id, details={"changes": changes}, commit=False
        )
    _commit_or_duplicate()
    return changes


def deactivate_account(user: User, actor: User) -> None:
    """Refuse sign-in and end every session and WebSocket of the user on their next request."""
    if not user.active:
        raise AccountError("This account is already deactivated.")
    _check_keeps_an_aiphas(user, actor, "deactivate")
    user.active = False
    end_sessions(user, "deactivated")
    record_event("user.deactivated", target_user_id=user.id, details={"active": [True, False]})


def reactivate_account(user: User) -> None:
    """Let a deactivated user sign in again."""
    if user.active:
        raise AccountError("This account is already active.")
    user.active = True
    record_event("user.reactivated", target_user_id=user.id, details={"active": [False, True]})


def unlock_account(user: User) -> None:
    """Lift a lockout after too many failed sign-ins."""
    if not user.is_locked():
        raise AccountError("This account is not locked.")
    locked_until = as_utc(user.locked_until).isoformat()
    user.locked_until = None
    user.failed_login_count = 0
    record_event("user.unlocked", target_user_id=user.id, details={"locked_until": locked_until})


def reset_password(user: User, actor: User | None = None) -> str:
    """Replace the password with a temporary one (returned once) that must be changed."""
    if actor is not None and user.id == actor.id:
        # Resetting would also end the administrator's own session mid-action.
        raise AccountError("Change your own password from your account page instead.")
    password = temporary_password()
    was_locked = user.is_locked()
    user.set_password(password)
    user.must_change_password = True
    user.locked_until = None
    user.failed_login_count = 0
    end_sessions(user, "password_reset")
    record_event(
        "user.password_reset",
        target_user_id=user.id,
        details={"must_change_password": True, "unlocked": was_locked},
    )
    return password


def end_user_sessions(user: User) -> int:
    """End every session (and open socket) of the user at an administrator's request."""
    ended = end_sessions(user, "ended_by_admin")
    record_event("user.sessions_ended", target_user_id=user.id, details={"sessions": ended})
    return ended
