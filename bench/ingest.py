"""Ingestion benchmark: `flask ingest` end to end vs a naive Beam pipeline vs a COPY floor.

    python bench/ingest.py [--records 1000000] [--patients 20000] [--memory-check]

Runs on PostgreSQL (a database of its own, created and dropped) and prints records/s for
(a) files -> patient_cost rows through `flask ingest`, (b) a naive per-element Beam pipeline,
(c) COPY into an unlogged table plus INSERT ... SELECT ... GROUP BY; then the ratios, and with
--memory-check the peak memory of (a) at N and 4N.
"""

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import services  # noqa: E402

HEADER = (
    "id,patient_id,record_date,diagnosis,treatment,prescription,cost,notes,"
    "created_time,updated_time\n"
)
ROWS_PER_FILE = 250_000


def generate(folder: Path, records: int, patient_ids: range, seed: int = 1) -> None:
    """Write `records` legacy CSV rows for existing patients, in files of ROWS_PER_FILE."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for number in range((records + ROWS_PER_FILE - 1) // ROWS_PER_FILE):
        count = min(ROWS_PER_FILE, records - written)
        with open(folder / f"export_{number:03d}.csv", "w") as handle:
            handle.write(HEADER)
            for row in range(1, count + 1):
                patient = rng.choice(patient_ids)
                month = rng.randint(1, 12)
                cents = rng.randint(500, 500_000)
                handle.write(
                    f"{row},{patient},2025-{month:02d}-{rng.randint(1, 28):02d},Flu,Rest,,"
                    f"{cents // 100}.{cents % 100:02d},,2025-01-01 00:00:00,2025-01-01 00:00:00\n"
                )
        written += count


def timed(command: list[str], env: dict) -> tuple[float, int]:
    """Run a command; return (seconds, peak RSS in MiB of it and its children)."""
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024


def prepare_database(env: dict, patients: int) -> None:
    """Migrate and seed reference data plus `patients` platform patients."""
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run(
        [*flask, "db", "upgrade"],
        env=env,
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    subprocess.run(
        [*flask, "seed", "--patients", str(patients)],
        env=env,
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )


def copy_floor(database_url: str, folder: Path) -> float:
    """COPY every file into an unlogged table, then aggregate per patient and month."""
    connection = psycopg2.connect(database_url.replace("postgresql+psycopg2", "postgresql"))
    started = time.perf_counter()
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "CREATE UNLOGGED TABLE floor_raw (id int, patient_id int, record_date date, "
            "diagnosis text, treatment text, prescription text, cost numeric(12,2), notes text, "
            "created_time text, updated_time text)"
        )
        for path in sorted(folder.glob("*.csv")):
            with open(path) as handle:
                cursor.copy_expert("COPY floor_raw FROM STDIN WITH (FORMAT csv, HEADER)", handle)
        cursor.execute(
            "CREATE UNLOGGED TABLE floor_cost AS SELECT patient_id, "
            "to_char(record_date, 'YYYY-MM') AS month, sum(cost) AS total, count(*) AS n "
            "FROM floor_raw GROUP BY 1, 2"
        )
    seconds = time.perf_counter() - started
    connection.close()
    return seconds


def measure(records: int, patients: int, work: Path, skip_baselines: bool) -> dict:
    """One full measurement at `records` rows on a fresh database."""
    name = services.create_database("aikey_bench_ingest")
    url = services.url_for_database(name)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "STORAGE_URI": str(work / "storage"),
        "FLASK_APP": "wsgi",
    }
    env.pop("REDIS_URL", None)
    try:
        prepare_database(env, patients)
        data = work / f"incoming-{records}" / "bench-legacy"
        generate(data, records, range(1, patients + 1))
        ingest_seconds, ingest_rss = timed(
            [sys.executable, "-m", "flask", "--app", "wsgi", "ingest", str(data)], env
        )
        result = {"records": records, "ingest_s": ingest_seconds, "ingest_rss_mib": ingest_rss}
        if not skip_baselines:
            result["naive_s"], _ = timed(
                [sys.executable, "bench/naive_beam.py", str(data / "*.csv"), str(work / "naive")],
                env,
            )
            result["floor_s"] = copy_floor(url, data)
        return result
    finally:
        services.drop_database(name)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--memory-check", action="store_true", help="also run 4x the records")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aikey-bench-") as tmp:
        result = measure(args.records, args.patients, Path(tmp), skip_baselines=False)
        n = result["records"]
        print(f"records: {n:,}  platform patients: {args.patients:,}")
        print(
            f"(a) flask ingest end to end : {n / result['ingest_s']:>10,.0f} rec/s "
            f"({result['ingest_s']:.1f} s, peak RSS {result['ingest_rss_mib']} MiB)"
        )
        print(
            f"(b) naive Beam pipeline     : {n / result['naive_s']:>10,.0f} rec/s "
            f"({result['naive_s']:.1f} s)"
        )
        print(
            f"(c) COPY + GROUP BY floor    : {n / result['floor_s']:>10,.0f} rec/s "
            f"({result['floor_s']:.1f} s)"
        )
        print(
            f"ratio (a)/(b) speed-up over naive : {result['naive_s'] / result['ingest_s']:.2f}x "
            "(goal >= 5x)"
        )
        print(
            f"ratio (a)/(c) time vs floor       : {result['ingest_s'] / result['floor_s']:.2f}x "
            "(goal <= 2x)"
        )
        if args.memory_check:
            big = measure(4 * n, args.patients, Path(tmp), skip_baselines=True)
            growth = big["ingest_rss_mib"] / max(result["ingest_rss_mib"], 1)
            print(
                f"peak RSS at {4 * n:,}: {big['ingest_rss_mib']} MiB "
                f"({growth:.2f}x of {n:,}; goal <= 1.2x)"
            )


if __name__ == "__main__":
    main()
