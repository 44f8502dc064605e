"""Doctor dashboard benchmark: aiKey beside a bare Flask app, both under the Dockerfile's server.

    python bench/dashboard.py [--patients 200000] [--connections 16] [--seconds 10]

Seeds the benchmark database up to --patients (BENCH_DATABASE_URL, default a dedicated
`aikey_bench` database it creates), serves a bare one-route Flask app and then aiKey with the
same gunicorn command (the Dockerfile's CMD), drives each with wrk at --connections and prints
req/s, the ratio to the bare app and p50/p90/p99 for every doctor page and the audit page.
"""

import argparse
import os
import random
import re
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import psycopg2
import requests
from psycopg2 import sql
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bare_app import FLOOR_TABLE  # noqa: E402
from bench.cpu_split import cpu_by_group, delta  # noqa: E402
from bench.server import free_port, gunicorn_command, stop  # noqa: E402

BIN = Path(sys.executable).parent
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/aikey_bench"
NAMES = ("jeronimo", "farias", "ana garcia", "muller", "tomas", "zoe xu", "ibanez", "keiko")
# The bench doctor's department: St. Aiken's, whose platform source knows every seeded patient.
DEPARTMENT = "Cardiology"
GOAL_RATIO = 0.15
GOAL_P99_MS = 100.0


def cpu_groups(database: str) -> dict[str, tuple[str, str]]:
    """Whose CPU a request costs: the app server, the PostgreSQL backends of the benchmark's
    database (not other work on the server) and Redis; wrk is measured as our child."""
    return {
        "app": ("gunicorn", ""),
        "postgres": ("postgres", f" {database} "),
        "redis": ("redis-server", ""),
    }


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
    # As autovacuum would have by now in production; a server with autovacuum off (this bench
    # machine's) would otherwise plan every page on tables it has no statistics of.
    with connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("ANALYZE")


@dataclass
class Account:
    """A benchmark account: its email, fresh password and (AIPHAS) authenticator secret."""

    email: str
    password: str
    totp_secret: str | None = None


def make_user(
    url: str, secret_key: str, role_name: str, email: str, department: str | None = None
) -> Account:
    """An account of the benchmark's own with `role_name`, in `department` (a doctor's hospital
    decides which patients it sees); AIPHAS gets an authenticator, as it must sign in with one."""
    import pyotp

    from webapp import create_app
    from webapp.common.clock import utcnow
    from webapp.config import normalize_database_url
    from webapp.extensions import db
    from webapp.models import Organization, Role, User
    from webapp.services.accounts import totp

    password = secrets.token_urlsafe(12)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": normalize_database_url(url),
            "SECRET_KEY": secret_key,  # the server's: it seals the authenticator secret
            "CACHE_TYPE": "SimpleCache",
            "CACHE_OPTIONS": {},
        }
    )
    with app.app_context():
        user = db.session.query(User).filter_by(email=email).one_or_none()
        if user is None:
            role = db.session.query(Role).filter_by(name=role_name).one()
            user = User(name=f"Bench {role_name.title()}", email=email, role=role)
            db.session.add(user)
        user.set_password(password)
        if department:
            user.organization = db.session.query(Organization).filter_by(name=department).one()
        user.must_change_password = False
        secret = None
        if role_name == "AIPHAS":
            secret = pyotp.random_base32()
            user.totp_secret = totp.seal(secret)
            user.totp_enabled_at = utcnow()
            user.totp_last_step = None
        db.session.commit()
    return Account(email, password, secret)


def samples(url: str) -> tuple[list[int], list[str], list[str]]:
    """Random patient ids, birth dates and source identifiers that exist."""
    with connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM patient")
        top = cursor.fetchone()[0]
        picks = random.Random(7).sample(range(1, top + 1), min(200, top))
        cursor.execute("SELECT id, birth_date FROM patient WHERE id = ANY(%s)", (picks,))
        rows = cursor.fetchall()
        cursor.execute(
            "SELECT source_patient_id FROM patient_identifier WHERE patient_id = ANY(%s)", (picks,)
        )
        identifiers = [found for (found,) in cursor.fetchall()]
    return [pid for pid, _ in rows], [birth.isoformat() for _, birth in rows], identifiers


def start_gunicorn(env: dict, port: int, app: str, probe: str) -> subprocess.Popen:
    """`app` served exactly as the Dockerfile serves aiKey, on a loopback port."""
    server = subprocess.Popen(
        gunicorn_command(port, app), cwd=ROOT, env=env, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}{probe}", timeout=1)
            return server
        except requests.RequestException:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"gunicorn ({app}) did not answer within 30 s")


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


@dataclass
class Visitor:
    """A signed-in browser: its Cookie header and the CSRF token its forms carry."""

    cookie: str
    csrf: str


def sign_in(base: str, account: Account) -> Visitor:
    """Sign in through the form (and the second factor when asked), then open the search page
    the way a browser does: its cookie then holds the CSRF secret the search POST is checked by."""
    import pyotp

    http = requests.Session()
    form = {"email": account.email, "password": account.password}
    answer = http.post(
        f"{base}/login", data={**form, "csrf_token": _csrf(http.get(f"{base}/login").text)}
    )
    if answer.url.endswith("/login/code") and account.totp_secret:
        code = pyotp.TOTP(account.totp_secret).now()
        answer = http.post(answer.url, data={"code": code, "csrf_token": _csrf(answer.text)})
    if "/login" in answer.url or "/account/" in answer.url:
        raise SystemExit(f"sign-in of {account.email} failed, landed on {answer.url}")
    token = _csrf(http.get(f"{base}/patients").text)
    return Visitor("; ".join(f"{c.name}={c.value}" for c in http.cookies), token)


@dataclass
class Scenario:
    """Requests to cycle through: (method, path, form body) with one account's cookie; every
    answer must be a 200 whose body holds `marker` (the real page, not a sign-in or error)."""

    requests: list[tuple[str, str, str]]
    marker: str
    account: str = "doctor"


@dataclass
class Result:
    """What wrk measured for one scenario."""

    requests: int
    errors: int
    rps: float
    p50: float
    p90: float
    p99: float
    # Answers that were not the page: "status 302", "status 400", "no marker", socket errors.
    wrong: dict[str, int] = field(default_factory=dict)
    # CPU ms per request by process group (cpu_groups, and wrk).
    cpu_ms: dict[str, float] = field(default_factory=dict)


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk(
    port: int, scenario: Scenario, visitor: Visitor | None, connections: int, seconds: float
) -> Result:
    """Drive the server with wrk (bench/paths.lua) and parse its latency distribution; every
    answer that is not a 200 holding the page's marker is counted apart by status."""
    with tempfile.NamedTemporaryFile("w", suffix=".tsv") as listing:
        listing.writelines(f"{m}\t{p}\t{b}\n" for m, p, b in scenario.requests)
        listing.flush()
        env = {
            **os.environ,
            "BENCH_REQUESTS": listing.name,
            "BENCH_COOKIE": visitor.cookie if visitor else "",
            "BENCH_CSRF": visitor.csrf if visitor else "",
            "BENCH_MARKER": scenario.marker,
        }
        command = ["wrk", "--latency", "-t", "2", "-c", str(connections), "-d", f"{seconds:g}s"]
        command += ["-s", str(ROOT / "bench" / "paths.lua"), f"http://127.0.0.1:{port}"]
        groups = cpu_groups(os.environ.get("BENCH_DATABASE_NAME", ""))
        before, wrk_before = cpu_by_group(groups), _children_cpu()
        out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
        used = {**delta(before, cpu_by_group(groups)), "wrk": _children_cpu() - wrk_before}
    points = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)\s*$", out, re.MULTILINE))
    if len(points) < 3:
        raise SystemExit(f"wrk printed no latency distribution:\n{out}")
    count = int(re.search(r"(\d+) requests in", out).group(1))
    wrong = {kind: int(n) for kind, n in re.findall(r"^wrong (.+?): (\d+)$", out, re.MULTILINE)}
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors and sum(map(int, errors.groups())):
        wrong["socket errors"] = sum(map(int, errors.groups()))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    points_ms = (_ms(points[key]) for key in ("50", "90", "99"))
    cpu_ms = {group: seconds * 1000 / max(count, 1) for group, seconds in used.items()}
    return Result(count, sum(wrong.values()), rps, *points_ms, wrong=wrong, cpu_ms=cpu_ms)


def get(path: str) -> tuple[str, str, str]:
    """A GET of `path` for a scenario."""
    return ("GET", path, "")


def search(**fields: str) -> tuple[str, str, str]:
    """The search form POSTed as the page does (paths.lua adds the CSRF token)."""
    return ("POST", "/patients", urlencode(fields))


RESULTS = 'id="patient-'  # a result row: a search that found nobody measures nothing


def scenarios(ids: list[int], dobs: list[str], identifiers: list[str]) -> dict[str, Scenario]:
    """The pages a doctor uses (and the audit page, as AIPHAS) with their sample requests."""
    return {
        "name search": Scenario([search(name=n) for n in NAMES], RESULTS),
        "DOB search": Scenario([search(dob=d) for d in dobs], RESULTS),
        "identifier search": Scenario([search(identifier=i) for i in identifiers], RESULTS),
        "chart (cached)": Scenario([get(f"/patients/{pid}") for pid in ids], 'id="records"'),
        "/costs": Scenario([get(f"/costs?page={n}") for n in range(1, 6)], 'id="cost-rows"'),
        "audit page": Scenario(
            [get(f"/admin/audit?page={n}") for n in range(1, 4)], 'id="audit-table"', "aiphas"
        ),
    }


def check(port: int, scenario: Scenario, visitor: Visitor | None) -> None:
    """Every request of a scenario answers 200 with its page before it is timed."""
    visitor = visitor or Visitor("", "")
    for method, path, body in scenario.requests:
        answer = requests.request(
            method,
            f"http://127.0.0.1:{port}{path}",
            data=f"{body}&csrf_token={visitor.csrf}" if method == "POST" else None,
            headers={"Cookie": visitor.cookie, "Content-Type": "application/x-www-form-urlencoded"},
            allow_redirects=False,
            timeout=30,
        )
        if answer.status_code != 200 or scenario.marker not in answer.text:
            raise SystemExit(
                f"{method} {path} {body} answered {answer.status_code} without {scenario.marker!r}"
            )


def report(floors: dict[str, Result], results: dict[str, Result], connections: int) -> None:
    """One line per page with its ratios to the bare app and the audited floor; goals checked."""
    bare, floor = floors["bare Flask"], floors["audited floor"]
    print(
        f"\n{'page':<18}{'requests':>9}{'errors':>7}{'req/s':>9}{'x bare':>8}{'x floor':>8}"
        f"{'p50 ms':>8}{'p90 ms':>8}{'p99 ms':>8}  goal"
    )
    rows = {**floors, **results}
    for name, r in rows.items():
        ratio = r.rps / bare.rps if bare.rps else 0.0
        to_floor = r.rps / floor.rps if floor.rps else 0.0
        met = (
            ""
            if name in floors
            else ("met" if ratio >= GOAL_RATIO and r.p99 < GOAL_P99_MS else "NO")
        )
        print(
            f"{name:<18}{r.requests:>9}{r.errors:>7}{r.rps:>9.0f}{ratio:>8.3f}{to_floor:>8.3f}"
            f"{r.p50:>8.1f}{r.p90:>8.1f}{r.p99:>8.1f}  {met}"
        )
    print(
        f"goal: every page >= {GOAL_RATIO}x the bare app's req/s and p99 < {GOAL_P99_MS:.0f} ms "
        f"at {connections} connections\n"
        "read floor: one indexed read and a small template; audited floor: the same read, one "
        "audit INSERT + COMMIT and the template, on the same stack (bench/bare_app.py)"
    )
    print(f"\nCPU ms per request ({os.cpu_count()} cores shared by all of them):")
    groups = ("app", "postgres", "redis", "wrk")
    print(f"{'page':<18}" + "".join(f"{group:>10}" for group in groups) + f"{'total':>10}")
    for name, r in rows.items():
        cells = "".join(f"{r.cpu_ms.get(group, 0.0):>10.2f}" for group in groups)
        print(f"{name:<18}{cells}{sum(r.cpu_ms.values()):>10.2f}")
    for name, r in rows.items():
        if r.wrong:
            kinds = ", ".join(f"{kind} x{n}" for kind, n in sorted(r.wrong.items()))
            print(f"WRONG ANSWERS on {name}: {kinds} (its figures do not measure the page)")


def measure_floors(env: dict, ids: list[int], connections: int, seconds: float) -> dict:
    """The bare app's one route, the read floor and the audited floor, under the Dockerfile's
    command."""
    with connect(env["DATABASE_URL"]) as connection, connection.cursor() as cursor:
        cursor.execute(FLOOR_TABLE)
        cursor.execute("TRUNCATE bench_floor_event")  # each run's rows only
    port = free_port()
    server = start_gunicorn(env, port, "bench.bare_app:app", "/")
    try:
        bare = wrk(port, Scenario([get("/")], "ok"), None, connections, seconds)
        print(f"  measured bare Flask: {bare.requests} requests", flush=True)
        reads = Scenario([get(f"/read/{pid}") for pid in ids], "id=floor")
        check(port, reads, None)
        wrk(port, reads, None, connections, 2)  # warm: the pools
        read = wrk(port, reads, None, connections, seconds)
        print(f"  measured read floor: {read.requests} requests", flush=True)
        floor = Scenario([get(f"/audited/{pid}") for pid in ids], "id=floor")
        check(port, floor, None)
        wrk(port, floor, None, connections, 2)  # warm: the pools
        audited = wrk(port, floor, None, connections, seconds)
        print(f"  measured audited floor: {audited.requests} requests", flush=True)
    finally:
        stop(server)
    return {"bare Flask": bare, "read floor": read, "audited floor": audited}


def main(argv=None) -> None:
    """Seed, serve the bare app then aiKey, sign in, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--only", help="measure only the pages whose name contains this")
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
    os.environ["BENCH_DATABASE_NAME"] = make_url(url).database
    ensure_database(url)
    seed(url, args.patients, {**env, "REDIS_URL": ""})
    key = env["SECRET_KEY"]
    accounts = {
        "doctor": make_user(url, key, "DOCTOR", "bench.doctor@example.com", DEPARTMENT),
        "aiphas": make_user(url, key, "AIPHAS", "bench.aiphas@example.com"),
    }
    ids, dobs, identifiers = samples(url)
    plan = scenarios(ids, dobs, identifiers)
    if args.only:
        plan = {name: s for name, s in plan.items() if args.only in name}

    floors = measure_floors(env, ids, args.connections, args.seconds)

    port = free_port()
    server = start_gunicorn(env, port, "wsgi:app", "/login")
    try:
        base = f"http://127.0.0.1:{port}"
        visitors = {key: sign_in(base, account) for key, account in accounts.items()}
        results = {}
        for name, scenario in plan.items():
            visitor = visitors[scenario.account]
            check(port, scenario, visitor)
            wrk(port, scenario, visitor, args.connections, 2)  # warm: caches, pools, plans
            results[name] = wrk(port, scenario, visitor, args.connections, args.seconds)
            print(f"  measured {name}: {results[name].requests} requests", flush=True)
    finally:
        stop(server)
    print(
        f"\n{args.patients:,} patients, {args.connections} connections, {args.seconds:g} s each, "
        f"wrk against gunicorn (Dockerfile CMD) on 127.0.0.1, {os.cpu_count()} CPUs"
    )
    report(floors, results, args.connections)


if __name__ == "__main__":
    main()
