"""Cached cost reads and their named invalidation, called by every path that writes costs.

Every cached value lives under a generation token: `costs:patient:<id>` for one patient's
series, `costs:table-version` for the cross-patient cost table. A reader takes the token
*before* it queries the database and stores its result under that token, so invalidation is
deleting the token. A reader that raced a load can only write under a token nobody reads any
more, and invalidation runs again after the writing transaction commits, so no cost older than
the last completed load is ever served.
"""

import secrets
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.extensions import db
from webapp.services.costs import cache_guard

COST_TABLE_VERSION_KEY = "costs:table-version"
PENDING_INFO_KEY = "aikey_costs_to_clear"
GENERATION_TIMEOUT = 24 * 3600


def patient_cost_key(patient_id: int) -> str:
    """Generation key of one patient's monthly cost series."""
    return f"costs:patient:{patient_id}"


def cached(generation_key: str, name: str, compute: Callable[[], Any]) -> Any:
    """Return `name` cached under the current generation, computing it on a miss."""
    generation = cache_guard.get(generation_key)
    if generation is not None:
        value = cache_guard.get(f"{name}@{generation}")
        if value is not None:
            return value
    else:
        generation = secrets.token_hex(8)
        # put_new: when two readers race, the first token wins and the other's write is unread.
        cache_guard.put_new(generation_key, generation, timeout=GENERATION_TIMEOUT)
    value = compute()
    cache_guard.put(f"{name}@{generation}", value)
    return value


def clear_patient_costs(patient_ids: Iterable[int]) -> None:
    """Forget cached cost series of these patients and the cost table, now and on commit."""
    ids = set(patient_ids)
    _forget(ids)
    session = db.session()
    if session.in_transaction():
        session.info.setdefault(PENDING_INFO_KEY, set()).update(ids)


def _forget(patient_ids: set[int]) -> None:
    keys = [patient_cost_key(pid) for pid in sorted(patient_ids)]
    cache_guard.delete_keys([*keys, COST_TABLE_VERSION_KEY])


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    # Readers between the first clear and the commit saw the old rows; drop what they cached.
    pending = session.info.pop(PENDING_INFO_KEY, None)
    if pending is not None:
        _forget(pending)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(PENDING_INFO_KEY, None)
