"""The audit page's view of the chain: how far it is sealed and whether its newest links hold.

Walking the newest TAIL_ROWS links on every view was most of the page's time. Each process now
remembers the tail it last found intact (its head link and when it walked the whole window): a
view verifies only the links sealed since, chained from that remembered link, and walks the
whole window again once the walk is older than AUDIT_TAIL_FRESH_SECONDS.

Why it stays safe: no link is shown as verified before this process has checked it; the
remembered head link is read again on every view, so a chain rewritten or cut below it (or a
trail reset) falls back to a full walk; a broken verdict is never remembered, so it shows on
every view; a sealed row edited in place after it was checked shows as broken once the window
passes. The page only ever checked the newest rows; `flask audit verify` (every row, stored
with its head) is untouched and stays the authoritative check.
"""

import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import AuditCheck, AuditEvent, AuditSeal
from webapp.services.audit.sealing import ChainHead, chain_head
from webapp.services.audit.verify import TAIL_ROWS, Verification, last_check, verify, verify_tail

TAIL_MEMO_KEY = "audit.tail_memo"
FRESH_SECONDS = 5.0


def fresh_seconds() -> float:
    """How long a walk of the whole tail stands before a view walks it again."""
    return current_app.config.get("AUDIT_TAIL_FRESH_SECONDS", FRESH_SECONDS)


@dataclass(frozen=True)
class TailMemo:
    """An intact tail this process verified: its head and when the whole window was walked."""

    verdict: Verification
    walked_at: float


def _remember(verdict: Verification, walked_at: float) -> Verification:
    if verdict.intact and verdict.head_seq is not None:
        current_app.extensions[TAIL_MEMO_KEY] = TailMemo(verdict, walked_at)
    else:
        current_app.extensions.pop(TAIL_MEMO_KEY, None)
    return verdict


def _usable(memo: TailMemo | None, head: ChainHead, now: float) -> bool:
    if memo is None or head.seq is None or now - memo.walked_at >= fresh_seconds():
        return False
    known = memo.verdict
    if head.seq < known.head_seq:
        return False
    if head.seq == known.head_seq:
        return head.link == known.head_link
    kept = db.session.scalar(select(AuditSeal.link).where(AuditSeal.seq == known.head_seq))
    return kept == known.head_link


def checked_tail(rows: int = TAIL_ROWS) -> Verification:
    """The newest `rows` links verified: only those sealed since this process's last intact
    walk while that walk is fresh, the whole window otherwise."""
    now = time.monotonic()
    head = chain_head()
    memo = current_app.extensions.get(TAIL_MEMO_KEY)
    if not _usable(memo, head, now):
        return _remember(verify_tail(rows), now)
    known = memo.verdict
    if head.seq == known.head_seq:
        return known
    newer = verify(after_seq=known.head_seq, previous=known.head_link)
    if not newer.intact:
        return _remember(newer, now)
    combined = Verification(
        rows_checked=min(known.rows_checked + newer.rows_checked, rows),
        head_seq=newer.head_seq,
        head_link=newer.head_link,
        sealed_through_id=max(known.sealed_through_id or 0, newer.sealed_through_id or 0),
    )
    return _remember(combined, memo.walked_at)


@dataclass
class TrailState:
    """What the audit page says about the chain: how far it is sealed and whether it holds."""

    sealed_through_id: int | None
    unsealed_after: int
    tail: Verification
    last_check: AuditCheck | None


def trail_state() -> TrailState:
    """The chain's state for the audit page: cheap counts, the newest links verified."""
    through = db.session.scalar(select(func.max(AuditSeal.event_id)))
    newer = select(func.count()).select_from(AuditEvent).where(AuditEvent.id > (through or 0))
    return TrailState(
        sealed_through_id=through,
        unsealed_after=db.session.scalar(newer) or 0,
        tail=checked_tail(),
        last_check=last_check(),
    )
