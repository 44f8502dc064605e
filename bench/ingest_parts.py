"""Pieces of the ingestion benchmark: the COPY floor on the real schema, FHIR test data."""

import json
import re
import time
from pathlib import Path

import psycopg2

UUID = re.compile(rb"[0-9a-f]{8}(-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")


def connect(database_url: str):
    """A psycopg2 connection for a SQLAlchemy URL."""
    return psycopg2.connect(database_url.replace("postgresql+psycopg2", "postgresql"))


def dump_stored(database_url: str, path: Path) -> None:
    """Write medical_record's rows, exactly as the load stored them, to a COPY text file."""
    connection = connect(database_url)
    with connection, connection.cursor() as cursor, open(path, "w") as handle:
        cursor.copy_expert("COPY medical_record TO STDOUT", handle)
    connection.close()


def copy_floor(database_url: str, stored: Path) -> dict:
    """COPY the stored rows into a LIKE medical_record copy, then GROUP BY into patient_cost's.

    The floor on the real schema: same columns, indexes and constraints, no resolution, no
    upsert. Returns seconds per step.
    """
    connection = connect(database_url)
    times = {}
    with connection, connection.cursor() as cursor:
        cursor.execute("CREATE TABLE floor_record (LIKE medical_record INCLUDING ALL)")
        cursor.execute("CREATE TABLE floor_cost (LIKE patient_cost INCLUDING ALL)")
        started = time.perf_counter()
        with open(stored) as handle:
            cursor.copy_expert("COPY floor_record FROM STDIN", handle)
        times["copy"] = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute(
            "INSERT INTO floor_cost (patient_id, month, total_cost, record_count, updated_at) "
            "SELECT patient_id, month, sum(cost), count(*), now() FROM floor_record "
            "WHERE duplicate_of_id IS NULL GROUP BY patient_id, month"
        )
        times["group by"] = time.perf_counter() - started
        cursor.execute("DROP TABLE floor_record, floor_cost")
    connection.close()
    return times


def replicate_bundles(source: Path, target: Path, minimum: int) -> int:
    """Copy the FHIR bundles under fresh ids until they hold >= `minimum` resources.

    Copy k rewrites the first 8 hex digits of every UUID (ids and the references to them)
    alike, so every copy is a consistent set of new resources. Returns the resource count.
    """
    target.mkdir(parents=True, exist_ok=True)
    files = sorted(source.glob("*.json"))
    sizes = {path: len(json.loads(path.read_bytes()).get("entry", [])) for path in files}
    total, copy = 0, 0
    while total < minimum:
        prefix = f"{copy:08x}".encode()
        for path in files:
            data = UUID.sub(lambda m, p=prefix: p + m.group(1), path.read_bytes())
            (target / f"c{copy:04d}-{path.name}").write_bytes(data)
            total += sizes[path]
        copy += 1
    return total


def parse_seconds(folder: Path) -> float:
    """How long the standard library's json takes just to parse every file of the folder."""
    started = time.perf_counter()
    for path in sorted(folder.glob("*.json")):
        with open(path, "rb") as handle:
            json.loads(handle.read())
    return time.perf_counter() - started
