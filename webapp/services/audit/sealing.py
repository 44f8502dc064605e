"""Sealing: chain every audit row not yet sealed, in id order, under one lock.

Requests only INSERT their rows (each with its content hash); sealing happens apart from them,
after request batches (`seal_after_requests`), from `flask audit seal` and from the Scheduler
hook, so no request ever waits for the chain. A lock keeps two sealers from interleaving.
"""

import time
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import func, insert, select

from webapp.common.clock import utcnow
from webapp.database import single_run_lock
from webapp.extensions import db
from webapp.models import AuditEvent, AuditSeal
from webapp.services.audit.chain import CONTENT_FIELDS, GENESIS, event_content_hash, link

SEAL_LOCK = 0x41554454  # "AUDT": one sealer at a time, across threads and app instances
BATCH = 2000
# How far below the sealed end a frequent pass looks for rows that committed late.
LOOKBACK = 10_000
LAST_SEAL_KEY = "audit.last_seal"


@dataclass(frozen=True)
class ChainHead:
    """The newest link: sealing continues from it."""

    seq: int | None
    link: str


def chain_head() -> ChainHead:
    """The last link of the chain (the genesis value while nothing is sealed)."""
    row = db.session.execute(
        select(AuditSeal.seq, AuditSeal.link).order_by(AuditSeal.seq.desc()).limit(1)
    ).first()
    return ChainHead(row.seq, row.link) if row else ChainHead(None, GENESIS)


def _unsealed(floor: int, limit: int) -> list:
    # Not "id > the highest sealed id": a row may commit after a higher id was sealed, and it
    # is then sealed by the next pass, after that one.
    sealed = select(AuditSeal.event_id).where(AuditSeal.event_id == AuditEvent.id).exists()
    columns = [getattr(AuditEvent, name) for name in CONTENT_FIELDS]
    stmt = (
        select(AuditEvent.id, AuditEvent.row_hash, *columns)
        .where(AuditEvent.id > floor, ~sealed)
        .order_by(AuditEvent.id)
        .limit(limit)
    )
    return list(db.session.execute(stmt))


def _seal_batch(floor: int, limit: int) -> list[int]:
    """Seal up to `limit` rows above `floor`; returns their ids."""
    with single_run_lock(SEAL_LOCK):
        previous = chain_head().link  # read under the lock: another sealer may just have moved it
        now, links = utcnow(), []
        events = _unsealed(floor, limit)
        for event in events:
            # The hash taken at insert, if the row has one: a row changed before sealing then
            # fails verification instead of being sealed in its changed form.
            previous = link(previous, event.id, event.row_hash or event_content_hash(event))
            links.append({"event_id": event.id, "link": previous, "sealed_at": now})
        if links:
            db.session.execute(insert(AuditSeal), links)
        db.session.commit()  # also ends the transaction that holds the advisory lock
    return [row["event_id"] for row in links]


def seal(batch: int = BATCH, full: bool = True) -> int:
    """Chain every unsealed audit row, lowest id first; returns how many were sealed.

    `full=False` (after requests) looks for unsealed rows only among the newest LOOKBACK ids
    below the sealed end, which keeps a frequent pass cheap on a long trail; `flask audit seal`
    and the Scheduler hook look at every row.
    """
    floor = 0 if full else max((sealed_through() or 0) - LOOKBACK, 0)
    total = 0
    while ids := _seal_batch(floor, batch):
        total += len(ids)
        # Every visible row up to the batch's last id is sealed now: the next batch starts there.
        floor = ids[-1]
    return total


def sealed_through() -> int | None:
    """The highest audit row id that is sealed."""
    return db.session.scalar(select(func.max(AuditSeal.event_id)))


def seal_or_log(full: bool = True) -> int | None:
    """Seal, logging a failure instead of raising it; None when sealing failed."""
    try:
        return seal(full=full)
    except Exception:
        db.session.rollback()
        # The rows are safe (inserted and hashed); the next pass or `flask audit seal` chains
        # them. Sealing must never turn a request or a hook call into an error.
        current_app.logger.exception("sealing the audit trail failed")
        return None


def seal_after_requests(app: Flask) -> None:
    """Seal at most once per AUDIT_SEAL_SECONDS per process, in an app context of its own."""
    interval = app.config.get("AUDIT_SEAL_SECONDS", 5.0)
    last = app.extensions.get(LAST_SEAL_KEY, 0.0)
    if interval < 0 or time.monotonic() - last < interval:
        return
    app.extensions[LAST_SEAL_KEY] = time.monotonic()
    with app.app_context():
        seal_or_log(full=False)
