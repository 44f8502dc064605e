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
from sqlalchemy import func, null, select

from webapp.extensions import db
from webapp.models import AuditCheck, AuditEvent, AuditSeal
from webapp.services.audit.verify import TAIL_ROWS, Verification, last_check, verify

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


@dataclass(frozen=True)
class ChainFigures:
    """The chain as one statement saw it; `kept_link` is the link now at the remembered head."""

    sealed_through_id: int | None
    unsealed_after: int
    head_seq: int | None
    head_link: str | None
    kept_link: str | None


def _figures(known_seq: int | None) -> ChainFigures:
    # One round trip, one snapshot: the head, how far it is sealed, what waits, and the link
    # now stored where this process's remembered head was.
    through = select(func.max(AuditSeal.event_id)).scalar_subquery()
    waiting = (
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.id > func.coalesce(through, 0))
        .scalar_subquery()
    )
    newest = select(AuditSeal.seq, AuditSeal.link).order_by(AuditSeal.seq.desc()).limit(1)
    kept = select(AuditSeal.link).where(AuditSeal.seq == known_seq).scalar_subquery()
    row = db.session.execute(
        select(
            through,
            waiting,
            newest.with_only_columns(AuditSeal.seq).scalar_subquery(),
            newest.with_only_columns(AuditSeal.link).scalar_subquery(),
            kept if known_seq is not None else null(),
        )
    ).one()
    return ChainFigures(row[0], row[1] or 0, row[2], row[3], row[4])


def _usable(memo: TailMemo | None, figures: ChainFigures, now: float) -> bool:
    if memo is None or figures.head_seq is None or now - memo.walked_at >= fresh_seconds():
        return False
    known = memo.verdict
    if figures.head_seq < known.head_seq:
        return False
    return figures.kept_link == known.head_link


def _checked_tail(memo: TailMemo | None, figures: ChainFigures, rows: int) -> Verification:
    """The newest `rows` links verified: only those sealed since this process's last intact
    walk while that walk is fresh, the whole window otherwise."""
    now = time.monotonic()
    if not _usable(memo, figures, now):
        start = max((figures.head_seq or 0) - rows, 0)
        return _remember(verify(after_seq=start), now)
    known = memo.verdict
    if figures.head_seq == known.head_seq:
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


def trail_state(rows: int = TAIL_ROWS) -> TrailState:
    """The chain's state for the audit page: cheap counts, the newest links verified."""
    memo = current_app.extensions.get(TAIL_MEMO_KEY)
    figures = _figures(memo.verdict.head_seq if memo else None)
    return TrailState(
        sealed_through_id=figures.sealed_through_id,
        unsealed_after=figures.unsealed_after,
        tail=_checked_tail(memo, figures, rows),
        last_check=last_check(),
    )
