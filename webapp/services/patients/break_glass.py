"""Break-the-glass: a doctor's audited, time-limited access to a patient outside their hospital."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from webapp.common.clock import utcnow
from webapp.extensions import db
from webapp.models import BreakGlassGrant

# The short list a doctor picks from; the free text says the rest.
REASONS = {
    "emergency": "Emergency treatment",
    "referral": "Patient referred or transferred to my care",
    "consult": "Consultation requested by the treating team",
    "continuity": "Continuity of care (patient in front of me)",
}
DEFAULT_HOURS = 24


def granted_patient_ids(user_id: int) -> set[int]:
    """Patients this user holds an unexpired grant for."""
    return set(
        db.session.scalars(
            select(BreakGlassGrant.patient_id).where(
                BreakGlassGrant.user_id == user_id, BreakGlassGrant.expires_at > utcnow()
            )
        )
    )


def grant_access(user_id: int, patient_id: int, reason_code: str, reason_text: str):
    """Record a grant for BREAK_GLASS_HOURS and commit it; the caller audits it."""
    if reason_code not in REASONS:
        raise ValueError(f"unknown reason {reason_code!r}")
    now = utcnow()
    hours = current_app.config.get("BREAK_GLASS_HOURS", DEFAULT_HOURS)
    grant = BreakGlassGrant(
        user_id=user_id,
        patient_id=patient_id,
        reason_code=reason_code,
        reason_text=reason_text.strip()[:500],
        granted_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    db.session.add(grant)
    db.session.commit()
    return grant


def review_grant(grant_id: int, reviewer_id: int):
    """Mark a grant reviewed by an AIPHAS operator; None when there is no such grant."""
    grant = db.session.get(BreakGlassGrant, grant_id)
    if grant is None:
        return None
    if grant.reviewed_at is None:
        grant.reviewed_at = utcnow()
        grant.reviewed_by_id = reviewer_id
        db.session.commit()
    return grant
