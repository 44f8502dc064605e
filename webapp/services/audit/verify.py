"""Verifying the audit trail: recompute every sealed row's hash and link, report the first fault."""

from dataclasses import dataclass

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuditCheck, AuditEvent, AuditSeal
from webapp.services.audit.chain import CONTENT_FIELDS, GENESIS, event_content_hash, link

TAIL_ROWS = 500


@dataclass
class Verification:
    """What one verification found; `first_bad_id` names the first audit row that fails."""

    rows_checked: int = 0
    first_bad_id: int | None = None
    problem: str | None = None
    head_seq: int | None = None
    head_link: str | None = None
    sealed_through_id: int | None = None

    @property
    def intact(self) -> bool:
        """True when every checked link holds."""
        return self.first_bad_id is None and self.problem is None

    def fail(self, event_id: int | None, problem: str) -> "Verification":
        """Record the first fault and stop."""
        self.first_bad_id, self.problem = event_id, problem
        return self


def _chain_rows(after_seq: int, batch: int):
    columns = [getattr(AuditEvent, name) for name in CONTENT_FIELDS]
    stmt = (
        select(AuditSeal.seq, AuditSeal.event_id, AuditSeal.link, AuditEvent.id, *columns)
        .add_columns(AuditEvent.row_hash)
        .outerjoin(AuditEvent, AuditEvent.id == AuditSeal.event_id)
        .where(AuditSeal.seq > after_seq)
        .order_by(AuditSeal.seq)
        .execution_options(yield_per=batch)
    )
    return db.session.execute(stmt)


def _link_before(seq: int) -> str:
    found = db.session.scalar(
        select(AuditSeal.link).where(AuditSeal.seq <= seq).order_by(AuditSeal.seq.desc()).limit(1)
    )
    return found or GENESIS


def verify(after_seq: int = 0, batch: int = 2000, previous: str | None = None) -> Verification:
    """Walk the chain in sealing order (all of it, or the links after `after_seq`, which follow
    `previous` when the caller already holds the link at `after_seq`)."""
    result = Verification()
    if previous is None:
        previous = _link_before(after_seq) if after_seq else GENESIS
    for row in _chain_rows(after_seq, batch):
        if row.id is None:
            return result.fail(row.event_id, f"audit row {row.event_id} was removed")
        computed = event_content_hash(row)
        if row.row_hash not in (None, computed):
            return result.fail(row.id, f"audit row {row.id} was altered")
        if link(previous, row.id, computed) != row.link:
            if link(previous, row.id, row.row_hash or computed) == row.link:
                return result.fail(row.id, f"audit row {row.id} was altered")
            message = f"audit row {row.id} was altered, or a sealed row before it was removed"
            return result.fail(row.id, message)
        previous = row.link
        result.rows_checked += 1
        result.head_seq, result.head_link = row.seq, row.link
        result.sealed_through_id = max(result.sealed_through_id or 0, row.id)
    return result


def _check_against_last(result: Verification) -> Verification:
    """A chain cut short at its end still verifies; the head an earlier check saw must remain."""
    last = db.session.scalar(
        select(AuditCheck)
        .where(AuditCheck.intact.is_(True), AuditCheck.head_seq.is_not(None))
        .order_by(AuditCheck.id.desc())
        .limit(1)
    )
    if last is None or not result.intact:
        return result
    kept = db.session.scalar(select(AuditSeal.link).where(AuditSeal.seq == last.head_seq))
    if kept != last.head_link:
        problem = (
            f"sealed rows up to audit row {last.sealed_through_id}, present at the check of "
            f"{last.checked_at:%Y-%m-%d %H:%M:%S}, were removed or changed"
        )
        return result.fail(last.sealed_through_id, problem)
    return result


def verify_and_record() -> Verification:
    """Verify the whole chain, compare its head with the last good check, and store the result."""
    result = _check_against_last(verify())
    db.session.add(
        AuditCheck(
            rows_checked=result.rows_checked,
            intact=result.intact,
            head_seq=result.head_seq,
            head_link=result.head_link,
            sealed_through_id=result.sealed_through_id,
            first_bad_id=result.first_bad_id,
            problem=result.problem,
        )
    )
    db.session.commit()
    return result


def last_check() -> AuditCheck | None:
    """The most recent stored verification."""
    return db.session.scalar(select(AuditCheck).order_by(AuditCheck.id.desc()).limit(1))
