"""Live cost rows under load: 200 doctors' sockets on gunicorn as the Dockerfile runs it.

Creates a PostgreSQL database, migrates and seeds it, starts gunicorn on a loopback port,
connects the clients with a doctor's session cookie, commits cost rows at a steady rate and
prints p50/p99 latency from commit to receipt and how many messages were lost.
With --pages N, wrk drives N connections of doctor pages (charts, search, /costs) against
the same server meanwhile and their req/s and p99 are printed too: pages must not stall
pushes, nor pushes pages. With --split the sockets go to a second gunicorn of the same image
sized for sockets (README "Serving": the live service behind the load balancer's /ws/ route),
and the pages to the first, run with WEB_NICE=10 as on a host the two services share.
Usage: python bench/live.py [--clients 200] [--rate 20] [--seconds 10] [--pages 16] [--split]
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg2
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import ws_readers  # noqa: E402
from bench.dashboard import Scenario, Visitor, get, search, wrk  # noqa: E402
from bench.server import free_port, gunicorn_command  # noqa: E402
from bench.server import stop as stop_server  # noqa: E402
from tests.support import services  # noqa: E402

PASSWORD = "bench-password-2026"
# The live service's sizing (README "Serving"): one process whose threads park on sockets.
LIVE_SERVICE = {"WEB_CONCURRENCY": "1", "WEB_THREADS": "512"}
# The page service beside it on the same host: its workers yield the CPU to the pushes.
PAGE_SERVICE = {"WEB_NICE": "10"}
ROW = re.compile(r'id="cost-(\d+)-(\d{4}-\d{2})"')


def prepare(env: dict) -> None:
    """Migrate and seed the new database; one doctor with the bench password."""
    flask = [str(Path(sys.executable).parent / "flask")]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*flask, "seed", "--patients", "200"], env=env, cwd=ROOT, check=True)
    # As autovacuum would have in production (this bench machine runs without it).
    with psycopg2.connect(env["DATABASE_URL"].replace("+psycopg2", "")) as conn:
        conn.cursor().execute("ANALYZE")


def visitor_for(url: str, email: str) -> Visitor:
    """A doctor signed in through the form: the Cookie header and the search form's CSRF token."""
    from tests.support.pages import csrf_token

    http = requests.Session()
    token = csrf_token(http.get(f"{url}/login").text)
    http.post(f"{url}/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    token = csrf_token(http.get(f"{url}/patients").text)
    return Visitor("; ".join(f"{c.name}={c.value}" for c in http.cookies), token)


def wait_http(url: str, timeout=30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/health", timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="commits per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--pages", type=int, default=0, help="wrk connections on doctor pages")
    parser.add_argument(
        "--split", action="store_true", help="sockets on a live server of their own (/ws/ route)"
    )
    args = parser.parse_args()

    name = services.create_database("aikey_bench")
    database_url = services.url_for_database(name)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-secret",
        "SEED_PASSWORD": PASSWORD,
        "FLASK_APP": "wsgi",
        "AIKEY_ENV": "bench",
        "REDIS_URL": services.redis_url(),
    }
    servers = []
    try:
        prepare(env)
        page_env = {**env, **PAGE_SERVICE} if args.split else env
        servers.append(subprocess.Popen(gunicorn_command(port), env=page_env, cwd=ROOT))
        wait_http(url)
        live_url = url
        if args.split:
            live_port = free_port()
            live_url = f"http://127.0.0.1:{live_port}"
            servers.append(
                subprocess.Popen(gunicorn_command(live_port), env={**env, **LIVE_SERVICE}, cwd=ROOT)
            )
            wait_http(live_url)
        run(url, live_url, database_url, args)
    finally:
        for server in servers:
            stop_server(server)
        services.drop_database(name)


def run(url: str, live_url: str, database_url: str, args) -> None:
    visitor = visitor_for(url, "bob.doctor@example.com")
    headers = {"Cookie": visitor.cookie, "Origin": live_url}
    ws_url = live_url.replace("http://", "ws://") + "/ws/costs"
    # A server out of threads fails the run (connect's timeout) instead of hanging it.
    clients = [ws_readers.connect(ws_url, headers) for _ in range(args.clients)]
    received: dict[str, list[float]] = {}
    stop = threading.Event()

    def on_message(message: str, arrived: float) -> None:
        for key in ROW.findall(message):
            received.setdefault("-".join(key), []).append(arrived)

    reader = threading.Thread(
        target=ws_readers.read_all, args=(clients, on_message, stop.is_set), daemon=True
    )
    reader.start()
    time.sleep(1.0)  # every socket subscribed and the LISTEN thread connected

    connection = psycopg2.connect(database_url.replace("postgresql+psycopg2", "postgresql"))
    cursor = connection.cursor()
    cursor.execute("SELECT id FROM patient ORDER BY id")
    patients = [row[0] for row in cursor.fetchall()]
    pages = start_pages(url, visitor, patients, args)
    sent: dict[str, float] = {}
    interval, count = 1.0 / args.rate, int(args.rate * args.seconds)
    start = time.monotonic()
    for i in range(count):
        time.sleep(max(0.0, start + i * interval - time.monotonic()))
        patient, month = patients[i % len(patients)], f"{2100 + i // 12:04d}-{i % 12 + 1:02d}"
        cursor.execute(
            "INSERT INTO patient_cost (patient_id, month, total_cost, record_count, updated_at)"
            " VALUES (%s, %s, %s, 1, now())",
            (patient, month, 10 + i),
        )
        connection.commit()
        sent[f"{patient}-{month}"] = time.monotonic()
    time.sleep(2.0)
    stop.set()
    reader.join()
    connection.close()
    if pages is not None:
        pages.join()
        load = pages.result
        print(
            f"pages meanwhile ({args.pages} connections): {load.rps:.0f} req/s, "
            f"p50 {load.p50:.1f} ms, p99 {load.p99:.1f} ms, wrong answers {load.wrong or 0}"
        )

    latencies, lost = [], 0
    for key, committed in sent.items():
        arrivals = received.get(key, [])
        lost += args.clients - len(arrivals)
        latencies += [(arrival - committed) * 1000 for arrival in arrivals]
    latencies.sort()
    p50 = statistics.median(latencies) if latencies else float("nan")
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan")
    print(
        f"clients {args.clients}, commits {count} at {args.rate:g}/s, "
        f"messages expected {count * args.clients}"
    )
    print(f"latency commit->receipt p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms")
    print(f"messages lost {lost}")
    compressed = sum(deflate for _, deflate in clients)
    print(f"sockets the server compresses (permessage-deflate): {compressed} of {len(clients)}")
    print("goal: p99 < 100 ms, none lost ->", "met" if p99 < 100 and lost == 0 else "NOT met")
    ws_readers.close_all(clients)


def start_pages(url: str, visitor: Visitor, patients: list[int], args) -> threading.Thread | None:
    """wrk on doctor pages for as long as the commits run, in a thread; None without --pages."""
    if not args.pages:
        return None
    pages = [get(f"/patients/{pid}") for pid in patients[:50]]
    pages += [get("/costs"), search(name="a"), search(identifier=str(patients[0]))]
    port = int(url.rsplit(":", 1)[1])

    def drive():
        # Every page is a whole one (not a sign-in redirect): paths.lua counts any that is not.
        scenario = Scenario(pages, 'id="main"')
        thread.result = wrk(port, scenario, visitor, args.pages, args.seconds)

    thread = threading.Thread(target=drive, daemon=True)
    thread.start()
    return thread


if __name__ == "__main__":
    main()
