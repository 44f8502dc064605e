"""Doctor dashboard benchmark: gunicorn as the Dockerfile runs it, driven by concurrent clients.

    python bench/dashboard.py [--patients 1000000] [--clients 16] [--seconds 10]

Seeds the benchmark database up to --patients (BENCH_DATABASE_URL, default a dedicated
`aikey_bench` database it creates), starts gunicorn on a loopback port, signs in as a doctor and
prints p50/p95/p99 latency and requests per second for each page and for /health (the floor).
"""

import argparse
import http.client
import os
import random
import re
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import psycopg2
import requests
from psycopg2 import sql
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.server import free_port, gunicorn_command  # noqa: E402

BIN = Path(sys.executable).parent
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/aikey_bench"
NAMES = ("jeronimo", "farias", "ana garcia", "muller", "tomas", "zoe xu", "ibanez", "keiko")
GOAL_P95_MS = 50.0


def connect(url: str, database: str | None = None):
    """A psycopg2 connection to the server of `url` (optionally another database on it)."""
    parts = make_url(url)
    return psycopg2.connect(
        host=parts.host,
        port=parts.port,
        user=parts.username,
        password=parts.password,
        dbname=database or parts.database,
    )


def ensure_database(url: str) -> None:
    """Create the benchmark database when it does not exist."""
    name = make_url(url).database
    admin = connect(url, "postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def flask(env: dict, *args: str) -> None:
    """Run a flask CLI command of the project against the benchmark database."""
    subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=env, check=True)


def seed(url: str, patients: int, env: dict) -> None:
    """Migrate, then add synthetic patients until there are `patients`."""
    flask(env, "db", "upgrade")
    with connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM patient")
        present = cursor.fetchone()[0]
    if present < patients:
        started = time.perf_counter()
        flask(env, "seed", "--patients", str(patients - present))
        took = time.perf_counter() - started
        print(f"seeded {patients - present:,} patients in {took:.0f} s", flush=True)
    print(f"database holds {max(present, patients):,} patients (asked for {patients:,})")


def make_doctor(url: str) -> tuple[str, str]:
    """A doctor account of the benchmark's own, with a fresh password."""
    from webapp import create_app
    from webapp.config import normalize_database_url
    from webapp.extensions import db
    from webapp.models import Role, User

    email, password = "bench.doctor@example.com", secrets.token_urlsafe(12)
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": normalize_database_url(url), "CACHE_TYPE": "SimpleCache"}
    )
    with app.app_context():
        user = db.session.query(User).filter_by(email=email).one_or_none()
        if user is None:
            role = db.session.query(Role).filter_by(name="DOCTOR").one()
            user = User(name="Bench Doctor", email=email, role=role)
            db.session.add(user)
        user.set_password(password)
        user.must_change_password = False
        db.session.commit()
    return email, password


def samples(url: str) -> tuple[list[int], list[str]]:
    """Random patient ids (with costs) and birth dates that exist."""
    with connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM patient")
        top = cursor.fetchone()[0]
        picks = random.Random(7).sample(range(1, top + 1), min(200, top))
        cursor.execute("SELECT id, birth_date FROM patient WHERE id = ANY(%s)", (picks,))
        rows = cursor.fetchall()
    return [pid for pid, _ in rows], [birth.isoformat() for _, birth in rows]


def start_gunicorn(env: dict, port: int) -> subprocess.Popen:
    """gunicorn exactly as the Dockerfile runs it, on a loopback port."""
    server = subprocess.Popen(gunicorn_command(port), cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                return server
        except requests.RequestException:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer /health within 30 s")


def sign_in(base: str, email: str, password: str) -> str:
    """The session cookie of a signed-in doctor."""
    session = requests.Session()
    page = session.get(f"{base}/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = session.post(
        f"{base}/login", data={"email": email, "password": password, "csrf_token": token}
    )
    if not answer.url.endswith("/patients"):
        raise SystemExit(f"sign-in failed, landed on {answer.url}")
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def drive(port: int, cookie: str, paths: list[str], clients: int, seconds: float, limit: int):
    """Request `paths` round-robin from `clients` threads; returns latencies (s), errors, wall."""
    latencies, errors, lock = [], [0], threading.Lock()
    deadline = time.perf_counter() + seconds
    counter = iter(range(limit))

    def client(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, index = [], offset
        while time.perf_counter() < deadline and next(counter, None) is not None:
            path = paths[index % len(paths)]
            index += clients
            began = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": cookie})
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - began)
            if response.status != 200:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(latencies), errors[0], time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))] * 1000 if values else 0.0


def scenarios(ids: list[int], dobs: list[str]) -> dict[str, list[str]]:
    return {
        "floor /health": ["/health"],
        "name search": [f"/patients?{urlencode({'name': n})}" for n in NAMES],
        "DOB search": [f"/patients?dob={d}" for d in dobs],
        "chart (cached)": [f"/patients/{pid}" for pid in ids],
        "cost page": [f"/costs?page={n}" for n in range(1, 6)],
    }


def report(results: dict) -> None:
    """Print one line per scenario and the ratios to the floor."""
    floor_rps = results["floor /health"][3]
    print(
        f"\n{'scenario':<16}{'requests':>9}{'errors':>7}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'p99 ms':>9}{'req/s':>9}{'floor/x':>9}  p95<{GOAL_P95_MS:.0f}ms"
    )
    for name, (count, errors, (p50, p95, p99), rps) in results.items():
        ok = "yes" if p95 < GOAL_P95_MS else "NO"
        print(
            f"{name:<16}{count:>9}{errors:>7}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}{rps:>9.0f}"
            f"{floor_rps / rps if rps else 0:>9.2f}  {ok}"
        )
    print(
        "floor/x: how many times the floor's throughput exceeds the page's (goal for the "
        "cached chart: <= 2.0)"
    )


def main(argv=None) -> None:
    """Seed, serve, sign in, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=20_000)
    args = parser.parse_args(argv)
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FLASK_APP": "wsgi",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "CACHE_KEY_PREFIX": f"aikey-bench-{secrets.token_hex(4)}:",
        "SECRET_KEY": secrets.token_hex(32),
        "SEED_PASSWORD": secrets.token_urlsafe(12),
    }
    env.pop("AIKEY_ENV", None)
    ensure_database(url)
    seed(url, args.patients, {**env, "REDIS_URL": ""})
    email, password = make_doctor(url)
    ids, dobs = samples(url)
    port = free_port()
    server = start_gunicorn(env, port)
    try:
        cookie = sign_in(f"http://127.0.0.1:{port}", email, password)
        plan = scenarios(ids, dobs)
        warm = plan["chart (cached)"] + plan["cost page"]
        drive(port, cookie, warm, 4, 60, len(warm))  # fills the cache once per page
        results = {}
        for name, paths in plan.items():
            lat, errors, wall = drive(
                port, cookie, paths, args.clients, args.seconds, args.max_requests
            )
            points = tuple(percentile(lat, share) for share in (0.50, 0.95, 0.99))
            results[name] = (len(lat), errors, points, len(lat) / wall)
            print(f"  measured {name}: {len(lat)} requests", flush=True)
        print(
            f"\n{args.patients:,} patients, {args.clients} clients, {args.seconds:.0f} s each, "
            f"gunicorn (Dockerfile CMD) on 127.0.0.1:{port}, {os.cpu_count()} CPUs"
        )
        report(results)
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
