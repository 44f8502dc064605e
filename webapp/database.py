"""The one place that knows which database backend this is and what differs between them.

Production and the test suite run on PostgreSQL; the embedded default runs on SQLite. Services
ask this module (upsert, bulk load, change notifications, the single-run lock) instead of
checking the dialect themselves.
"""

import csv
import io
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache

import psycopg2.extensions
from flask import Flask, current_app
from sqlalchemy import Select, Table, bindparam, func, insert, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from webapp.extensions import db

POSTGRESQL = "postgresql"
SQLITE = "sqlite"

_process_locks: dict[int, threading.Lock] = {}
_process_locks_guard = threading.Lock()


def backend(app: Flask | None = None) -> str:
    """The configured backend's name: "postgresql" or "sqlite"."""
    uri = (app or current_app).config["SQLALCHEMY_DATABASE_URI"]
    return make_url(uri).get_backend_name()


def is_postgresql(app: Flask | None = None) -> bool:
    """Whether the app runs on PostgreSQL."""
    return backend(app) == POSTGRESQL


def sends_change_notifications(app: Flask | None = None) -> bool:
    """PostgreSQL's trigger NOTIFYs cost changes; elsewhere the app publishes them itself."""
    return is_postgresql(app)


def upsert(
    table: Table,
    key: Sequence[str],
    updatable: Sequence[str],
    *,
    also_set: Sequence[str] = (),
    source: tuple[Sequence[str], Select] | None = None,
):
    """INSERT ... ON CONFLICT (key) DO UPDATE the updatable columns, only where one changed.

    `also_set` columns (e.g. updated_at) are rewritten with them but do not count as a change;
    `source` is (column names, SELECT) to insert from a query instead of bound values.
    """
    stmt = (postgresql.insert if is_postgresql() else sqlite.insert)(table)
    if source is not None:
        stmt = stmt.from_select(list(source[0]), source[1])
    changed = or_(*(table.c[name].is_distinct_from(stmt.excluded[name]) for name in updatable))
    return stmt.on_conflict_do_update(
        index_elements=list(key),
        set_={name: stmt.excluded[name] for name in (*updatable, *also_set)},
        where=changed,
    )


def bulk_insert(table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert many rows in the session's transaction: COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    if is_postgresql():
        copy_from(
            f"COPY {table.name} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
            _csv(rows),
        )
    else:
        db.session.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


def copy_from(statement: str, handle) -> None:
    """Run a COPY ... FROM STDIN on the session's connection, reading `handle` (PostgreSQL)."""
    cursor = db.session.connection().connection.driver_connection.cursor()
    with _blocking_driver():
        cursor.copy_expert(statement, handle)


_green_pauses = {"depth": 0, "callback": None}


@contextmanager
def _blocking_driver() -> Iterator[None]:
    # psycopg2 refuses COPY while a wait callback (psycogreen, gevent workers) is set; the COPY
    # blocks its worker instead. A depth count, as a paused greenlet may start another COPY.
    if _green_pauses["depth"] == 0:
        _green_pauses["callback"] = psycopg2.extensions.get_wait_callback()
        psycopg2.extensions.set_wait_callback(None)
    _green_pauses["depth"] += 1
    try:
        yield
    finally:
        _green_pauses["depth"] -= 1
        if _green_pauses["depth"] == 0:
            psycopg2.extensions.set_wait_callback(_green_pauses["callback"])


def insert_without_flush_wait(table: Table, values: dict) -> int:
    """Insert one row and let this transaction's COMMIT return before its WAL reaches disk
    (PostgreSQL); returns the row's id.

    For audit-only transactions of read views: an app crash loses nothing; only a database
    server crash within ~3 x wal_writer_delay of the commit can lose the row (README "Audit").
    """
    stmt = _relaxed_insert(table, tuple(values), is_postgresql())
    return db.session.execute(stmt, values).scalar_one()


@cache
def _relaxed_insert(table: Table, columns: tuple[str, ...], postgresql: bool):
    # Built once per table and column list: every read view runs it, and a statement object
    # keeps its compiled form, so only the parameters change.
    row = select(*(bindparam(name, type_=table.c[name].type) for name in columns))
    if postgresql:
        # The setting rides in the INSERT's own FROM: one round trip instead of a SET LOCAL.
        relaxed = select(func.set_config("synchronous_commit", "off", True).label("_"))
        row = row.select_from(relaxed.subquery())
    return insert(table).from_select(list(columns), row).returning(table.c.id)


def _csv(rows: list[tuple]) -> io.StringIO:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["\\N" if value is None else value for value in row])
    buffer.seek(0)
    return buffer


def refresh_statistics(*tables: str) -> None:
    """ANALYZE the tables on PostgreSQL, whose planner otherwise keeps a stale picture."""
    if is_postgresql():
        db.session.execute(text(f"ANALYZE {', '.join(tables)}"))


def reserve_ids(table: Table, count: int) -> int:
    """First id of a block of `count` ids in `table` that nobody else will take."""
    if is_postgresql():
        sequence = db.session.scalar(
            text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
        )
        first = db.session.scalar(text("SELECT nextval(:seq)"), {"seq": sequence})
        db.session.execute(
            text("SELECT setval(:seq, :last)"), {"seq": sequence, "last": first + count - 1}
        )
        return first
    return (db.session.scalar(text(f"SELECT max(id) FROM {table.name}")) or 0) + 1


@contextmanager
def single_run_lock(key: int) -> Iterator[None]:
    """Serialise "check, then create" for `key` across threads and, on PostgreSQL, processes.

    On PostgreSQL the advisory lock is a transaction lock: it is held until the caller commits
    or rolls back, so two app instances cannot both pass the check.
    """
    with _process_locks_guard:
        lock = _process_locks.setdefault(key, threading.Lock())
    with lock:
        if is_postgresql():
            db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        yield


def hold_transaction_lock(key: int) -> None:
    """Wait for, and hold until commit or rollback, the advisory lock `key` (PostgreSQL)."""
    if is_postgresql():
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def insert_if_missing(table: Table, values: dict):
    """INSERT ... ON CONFLICT DO NOTHING: create a row unless one with its key exists."""
    stmt = (postgresql.insert if is_postgresql() else sqlite.insert)(table)
    return stmt.values(**values).on_conflict_do_nothing()


def tune_bulk_load() -> None:
    """Give this transaction room for big sorts and hashes (PostgreSQL's work_mem is per node)."""
    if is_postgresql():
        db.session.execute(text("SET LOCAL work_mem = '256MB'"))
        db.session.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
