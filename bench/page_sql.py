"""What each page's SQL costs PostgreSQL: CPU, planning and execution per statement.

    python bench/page_sql.py [--repeat 400] [--only chart]

Signs the bench doctor and AIPHAS in (BENCH_DATABASE_URL, seeded by bench/dashboard.py), records
the statements one request of each page sends, then replays them on one connection of its own:
the backend's CPU per statement (from /proc, over --repeat runs) and the planner's and
executor's times from EXPLAIN ANALYZE. Writes (the audit INSERT) are replayed and rolled back.
"""

import argparse
import os
import re
import statistics
import sys
from pathlib import Path

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dashboard import connect  # noqa: E402  # noqa: E402
from bench.profile_pages import run, signed_in_pages  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def backend_cpu(pid: int) -> float:
    """CPU seconds a PostgreSQL backend has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def recorded(app, client, token, scenario) -> list[str]:
    """The SQL (parameters filled in) one request of the scenario sends, after a warm-up."""
    from webapp.extensions import db

    with app.app_context():
        engine = db.engine
    statements = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        statements.append(cursor.mogrify(statement, parameters).decode())

    run(client, token, scenario, 3)
    event.listen(engine, "before_cursor_execute", keep)
    try:
        run(client, token, scenario, 1)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return statements


def measure(conn, statement: str, repeat: int) -> tuple[float, float, float]:
    """(CPU ms, planning ms, execution ms) of one statement on this connection."""
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
        for _ in range(20):
            cursor.execute(statement)
        conn.rollback()
        before = backend_cpu(pid)
        for _ in range(repeat):
            cursor.execute(statement)
        used = (backend_cpu(pid) - before) * 1000 / repeat
        conn.rollback()
        plans, runs = [], []
        for _ in range(15):
            cursor.execute("EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) " + statement)
            summary = "\n".join(row[0] for row in cursor.fetchall())
            plans.append(float(re.search(r"Planning Time: ([\d.]+)", summary).group(1)))
            runs.append(float(re.search(r"Execution Time: ([\d.]+)", summary).group(1)))
        conn.rollback()
    return used, statistics.median(plans), statistics.median(runs)


def main(argv=None) -> None:
    """Record each page's statements and print what each costs the database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=400)
    parser.add_argument("--only", help="only the pages whose name contains this")
    args = parser.parse_args(argv)
    app, clients, plan = signed_in_pages("aikey-page-sql", args.only)
    conn = connect(os.environ["DATABASE_URL"])
    print(f"{'page / statement':<58}{'CPU ms':>8}{'plan ms':>9}{'exec ms':>9}")
    for name, scenario in plan.items():
        client, token = clients[scenario.account]
        rows = [(s, *measure(conn, s, args.repeat)) for s in recorded(app, client, token, scenario)]
        print(
            f"{name:<58}{sum(r[1] for r in rows):>8.3f}{sum(r[2] for r in rows):>9.3f}"
            f"{sum(r[3] for r in rows):>9.3f}"
        )
        for statement, used, planning, execution in rows:
            label = " ".join(statement.split())[:54]
            print(f"  {label:<56}{used:>8.3f}{planning:>9.3f}{execution:>9.3f}")
    conn.close()


if __name__ == "__main__":
    main()
