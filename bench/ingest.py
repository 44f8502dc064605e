"""Ingestion benchmark: `flask ingest` end to end vs a naive Beam pipeline vs a COPY floor.

    python bench/ingest.py [--records 1000000] [--patients 20000] [--memory-check]

Runs on PostgreSQL (a database of its own, created and dropped) and prints, in one run:
(a) files -> patient_cost rows through `flask ingest`, split into pipeline and loader steps;
(b) a naive per-element Beam pipeline; (c) the floor on the real schema: COPY of the rows as
(a) stored them into a LIKE medical_record INCLUDING ALL table, then INSERT ... SELECT ...
GROUP BY into a LIKE patient_cost one; (d) `python -m pipeline.run` alone, in one process and
with two worker processes, each with the CPU use of its process tree; (e) the shared FHIR
bundles replicated under fresh ids to >= 100,000 resources through `flask ingest`, against
stdlib json parsing the same files. Then the ratios, and with --memory-check (a) at 4N and
its peak memory against N.
"""

import argparse
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import ingest_parts as parts  # noqa: E402
from pipeline.run import local_worker_args  # noqa: E402
from tests.support import services  # noqa: E402

FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
SHARED_FHIR = ROOT.parent / "shared" / "data" / "synthea-ca" / "fhir"
FHIR_RESOURCES = 100_000
# (a) runs with the app's default, one in-process worker: measured fastest at 1M records on the
# 2-core reference machine (pipeline/README.md, "Local worker processes"); (d) shows both.
WORKERS = 1
STAGE_WORKERS = (1, 2)

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


def timed(command: list[str], env: dict) -> tuple[float, int, str]:
    """Run a command; return (seconds, peak RSS in MiB of its process tree, its stdout)."""
    seconds, peak, stdout, _ = timed_cpu(command, env)
    return seconds, peak, stdout


def timed_cpu(command: list[str], env: dict) -> tuple[float, int, str, float]:
    """timed(), plus the CPU seconds (user + sys) of the command's whole process tree."""
    runner = [sys.executable, str(ROOT / "bench" / "peak_rss.py"), *command]
    before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(runner, env=env, check=True, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    peak = re.search(r"peak_rss_mib=(\d+)", done.stderr)
    return seconds, int(peak.group(1)) if peak else 0, done.stdout, _children_cpu() - before


def fastest(command: list[str], env: dict, repeat: int) -> tuple[float, float]:
    """The fastest of `repeat` runs of a command: (seconds, CPU seconds of that run)."""
    runs = [timed_cpu(command, env) for _ in range(repeat)]
    seconds, _, _, cpu = min(runs, key=lambda run: run[0])
    return seconds, cpu


def _children_cpu() -> float:
    # Every waited-for descendant counts, Beam's worker processes and Arrow's threads included.
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stage_seconds(output: str) -> float:
    """Seconds `flask ingest` spent in the pipeline: from its stage lines."""
    marks = [
        float(m) for m in re.findall(r"^  (?:Pipeline|Loading).*\((\d+\.\d+)s\)$", output, re.M)
    ]
    return marks[1] - marks[0] if len(marks) == 2 else float("nan")


def load_steps(database_url: str) -> dict:
    """The loader's seconds per step, as the last run recorded them."""
    connection = parts.connect(database_url)
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT reconciliation FROM pipeline_run ORDER BY started_at DESC LIMIT 1")
        (reconciliation,) = cursor.fetchone()
    connection.close()
    return (reconciliation or {}).get("load_seconds", {})


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


def measure(records: int, patients: int, work: Path, skip_baselines: bool, repeat: int = 1) -> dict:
    """One full measurement at `records` rows on a fresh database."""
    name = services.create_database("aikey_bench_ingest")
    url = services.url_for_database(name)
    env = {**os.environ, "DATABASE_URL": url, "STORAGE_URI": str(work / "storage")}
    env["FLASK_APP"] = "wsgi"
    env["PIPELINE_WORKERS"] = str(WORKERS)
    env.pop("REDIS_URL", None)
    try:
        prepare_database(env, patients)
        data = work / f"incoming-{records}" / "bench-legacy"
        generate(data, records, range(1, patients + 1))
        seconds, rss, out = timed([*FLASK, "ingest", str(data)], env)
        result = {"records": records, "ingest_s": seconds, "ingest_rss_mib": rss, "repeat": repeat}
        result["pipeline_s"], result["steps"] = stage_seconds(out), load_steps(url)
        if skip_baselines:
            return result
        result["naive_s"], _ = fastest(
            [sys.executable, "bench/naive_beam.py", str(data / "*.csv"), str(work / "naive")],
            env,
            repeat,
        )
        stored = work / "stored.copy"
        parts.dump_stored(url, stored)
        result["floor"] = parts.copy_floor(url, stored)
        stored.unlink()
        result["stage"] = {}
        for workers in STAGE_WORKERS:
            seconds, cpu = fastest(
                [sys.executable, "-m", "pipeline.run", "--input", str(data), "--output",
                 str(work / f"stage-only-{workers}"), *local_worker_args(workers)],
                env, repeat,
            )  # fmt: skip
            result["stage"][workers] = (seconds, cpu)
        result["stage_s"] = min(seconds for seconds, _ in result["stage"].values())
        fhir = work / "incoming-fhir" / "bench-fhir"
        result["fhir_resources"] = parts.replicate_bundles(SHARED_FHIR, fhir, FHIR_RESOURCES)
        result["fhir_s"], _, _ = timed([*FLASK, "ingest", str(fhir)], env)
        result["fhir_parse_s"] = parts.parse_seconds(fhir)
        return result
    finally:
        services.drop_database(name)


def report(r: dict, patients: int) -> None:
    """Print the figures of one measurement and their ratios."""
    n = r["records"]
    floor = sum(r["floor"].values())
    print(
        f"records: {n:,}  platform patients: {patients:,}  "
        f"(cores: {os.cpu_count()}, pipeline workers: {WORKERS})"
    )
    print(
        f"(a) flask ingest end to end : {n / r['ingest_s']:>10,.0f} rec/s "
        f"({r['ingest_s']:.1f} s, peak RSS {r['ingest_rss_mib']} MiB)"
    )
    print(f"    pipeline {r['pipeline_s']:.1f} s; loader steps: " + _steps(r["steps"]))
    print(
        f"(b) naive Beam pipeline     : {n / r['naive_s']:>10,.0f} rec/s ({r['naive_s']:.1f} s, "
        f"fastest of {r['repeat']})"
    )
    print(
        f"(c) COPY + GROUP BY floor   : {n / floor:>10,.0f} rec/s ({floor:.1f} s: "
        + _steps(r["floor"])
        + ")"
    )
    for workers, (seconds, cpu) in r["stage"].items():
        print(
            f"(d) pipeline.run, {workers} worker{'s' if workers > 1 else ' '}: "
            f"{n / seconds:>10,.0f} rec/s ({seconds:.1f} s; CPU {cpu:.1f} s = "
            f"{cpu / seconds:.2f} of {os.cpu_count()} cores; fastest of {r['repeat']})"
        )
    print(
        f"(e) FHIR end to end         : {r['fhir_resources'] / r['fhir_s']:>10,.0f} res/s "
        f"({r['fhir_resources']:,} resources, {r['fhir_s']:.1f} s; stdlib json parse "
        f"{r['fhir_parse_s']:.1f} s)"
    )
    print(f"ratio (a)/(c) time vs floor       : {r['ingest_s'] / floor:.2f}x (goal <= 2x)")
    print(f"ratio (b)/(d) stage (best) vs naive: {r['naive_s'] / r['stage_s']:.2f}x (goal >= 3x)")
    print(
        f"ratio (e) FHIR vs json parse      : {r['fhir_s'] / r['fhir_parse_s']:.2f}x (goal <= 4x)"
    )


def _steps(steps: dict) -> str:
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps.items())


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--memory-check", action="store_true", help="also run 4x the records")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of (b) and (d) each; the fastest is reported"
    )
    args = parser.parse_args()
    records = args.records or 1_000_000
    with tempfile.TemporaryDirectory(prefix="aikey-bench-") as tmp:
        result = measure(records, args.patients, Path(tmp), False, args.repeat)
        report(result, args.patients)
        if args.memory_check:
            big = measure(4 * records, args.patients, Path(tmp), skip_baselines=True)
            growth = big["ingest_rss_mib"] / max(result["ingest_rss_mib"], 1)
            print(
                f"(a) at {4 * records:,}: {4 * records / big['ingest_s']:,.0f} rec/s "
                f"({big['ingest_s']:.1f} s); pipeline {big['pipeline_s']:.1f} s; loader steps: "
                + _steps(big["steps"])
            )
            print(
                f"peak RSS at {4 * records:,}: {big['ingest_rss_mib']} MiB "
                f"({growth:.2f}x of {records:,}; goal <= 1.2x)"
            )


if __name__ == "__main__":
    main()
