"""The audit hash chain at scale: write cost of the per-row hash, sealing and verify throughput.

Creates a PostgreSQL database of its own, migrates it, writes --rows audit rows through
record_event (hash included) and the same rows without the hash (the baseline), seals them,
verifies them, and streams them once with a plain SELECT (the floor for verify).
Usage: python bench/audit_chain.py [--rows 200000]
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from tests.support import services  # noqa: E402
from tests.support.settings import app_settings  # noqa: E402
from webapp import MIGRATIONS_DIR, create_app  # noqa: E402
from webapp.common.clock import utcnow  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import AuditEvent  # noqa: E402
from webapp.services.audit.events import record_event  # noqa: E402
from webapp.services.audit.sealing import seal  # noqa: E402
from webapp.services.audit.verify import verify  # noqa: E402

BATCH = 1000
DETAILS = {"query": "jeronimo", "results": 17, "page": 1}


def timed(label: str, count: int, work) -> float:
    """Run work(), print rows per second, return the seconds taken."""
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    print(f"{label:<42} {count:>9} rows {seconds:8.2f} s {count / seconds:>10,.0f} rows/s")
    return seconds


def write(rows: int, hashed: bool) -> None:
    """Insert audit rows in batches, through record_event or as bare models."""
    for number in range(rows):
        if hashed:
            record_event("patients.search", patient_id=number, details=DETAILS, commit=False)
        else:
            event = AuditEvent(
                action="patients.search", occurred_at=utcnow(), patient_id=number, details=DETAILS
            )
            db.session.add(event)
        if number % BATCH == BATCH - 1:
            db.session.commit()
    db.session.commit()


def stream_all() -> None:
    """Read every row once: what any verification must at least do."""
    for _ in db.session.execute(select(AuditEvent).execution_options(yield_per=2000)):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    name = services.create_database("aikey_bench_audit")
    try:
        app = create_app(app_settings(services.url_for_database(name)))
        with app.app_context():
            upgrade(directory=str(MIGRATIONS_DIR))
            half = args.rows // 2
            bare = timed("write, no hash (baseline)", half, lambda: write(half, hashed=False))
            hashed = timed("write through record_event (hashed)", half, lambda: write(half, True))
            timed("seal (chain every row)", args.rows, seal)
            floor = timed("stream every row (floor for verify)", args.rows, stream_all)
            result = None

            def check():
                nonlocal result
                result = verify()

            checked = timed("flask audit verify (whole chain)", args.rows, check)
            assert result.intact and result.rows_checked == args.rows, result
            rows = db.session.scalar(text("SELECT count(*) FROM audit_seal"))
            print(f"sealed rows: {rows}; write overhead of the hash: {hashed / bare:.2f}x; ")
            print(f"verify vs plain read: {checked / floor:.2f}x")
            db.session.remove()
            db.engine.dispose()
    finally:
        services.drop_database(name)


if __name__ == "__main__":
    main()
