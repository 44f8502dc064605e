"""Per-request CPU of the doctor pages and the audit page, in process, with cProfile.

    python bench/profile_pages.py [--requests 200] [--top 25] [--only chart]

Builds the app against the benchmark database (BENCH_DATABASE_URL, seeded by
bench/dashboard.py), signs the bench doctor and AIPHAS in through the test client and times
--requests requests of each page: ms/request without the profiler, then the functions with the
most cumulative time under it. Redis (REDIS_URL) serves the cache and the limiter as in gunicorn.
"""

import argparse
import cProfile
import os
import pstats
import re
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dashboard import (  # noqa: E402
    DEFAULT_DATABASE,
    DEPARTMENT,
    make_user,
    samples,
    scenarios,
)


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def signed_in(app, account):
    """A test client signed in as `account` (with its second factor when asked) and its token."""
    import pyotp

    client = app.test_client()
    token = _csrf(client.get("/login").get_data(as_text=True))
    form = {"email": account.email, "password": account.password, "csrf_token": token}
    answer = client.post("/login", data=form, follow_redirects=True)
    if answer.request.path == "/login/code":
        code = pyotp.TOTP(account.totp_secret).now()
        form = {"code": code, "csrf_token": _csrf(answer.get_data(as_text=True))}
        answer = client.post("/login/code", data=form, follow_redirects=True)
    if answer.request.path.startswith(("/login", "/account/")):
        raise SystemExit(f"sign-in of {account.email} failed at {answer.request.path}")
    return client, _csrf(client.get("/patients").get_data(as_text=True))


def signed_in_pages(cache_prefix: str, only: str | None):
    """The app in process on the benchmark database, its bench doctor and AIPHAS signed in
    (name -> (client, CSRF token)), and the dashboard scenarios whose name contains `only`."""
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE)
    os.environ.update(
        DATABASE_URL=url,
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        CACHE_KEY_PREFIX=f"{cache_prefix}-{secrets.token_hex(4)}:",
        SECRET_KEY=secrets.token_hex(32),
    )
    os.environ.pop("AIKEY_ENV", None)
    key = os.environ["SECRET_KEY"]
    accounts = {
        "doctor": make_user(url, key, "DOCTOR", "bench.doctor@example.com", DEPARTMENT),
        "aiphas": make_user(url, key, "AIPHAS", "bench.aiphas@example.com"),
    }
    from webapp import create_app

    app = create_app()
    clients = {name: signed_in(app, account) for name, account in accounts.items()}
    plan = scenarios(*samples(url))
    if only:
        plan = {name: s for name, s in plan.items() if only in name}
    return app, clients, plan


def run(client, token: str, scenario, count: int) -> None:
    """`count` requests cycling through the scenario's; each must be its page."""
    for n in range(count):
        method, path, body = scenario.requests[n % len(scenario.requests)]
        data = {**dict(parse_qsl(body)), "csrf_token": token} if method == "POST" else None
        answer = client.open(path, method=method, data=data)
        if answer.status_code != 200 or scenario.marker not in answer.get_data(as_text=True):
            raise SystemExit(f"{method} {path} answered {answer.status_code}")


def main(argv=None) -> None:
    """Sign in, then time and profile each page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--only", help="profile only the pages whose name contains this")
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative, tottime")
    parser.add_argument("--filter", default="", help="only functions whose path matches (regex)")
    args = parser.parse_args(argv)
    _app, clients, plan = signed_in_pages("aikey-profile", args.only)
    timings = {}
    for name, scenario in plan.items():
        client, token = clients[scenario.account]
        run(client, token, scenario, 20)  # warm: caches, pools, plans
        started, cpu = time.perf_counter(), time.process_time()
        run(client, token, scenario, args.requests)
        timings[name] = (
            (time.perf_counter() - started) * 1000 / args.requests,
            (time.process_time() - cpu) * 1000 / args.requests,
        )
        profile = cProfile.Profile()
        profile.runcall(run, client, token, scenario, args.requests)
        print(f"\n=== {name}: {timings[name][0]:.2f} ms/request ===")
        pstats.Stats(profile).sort_stats(args.sort).print_stats(args.filter, args.top)
    # Wall time includes waiting on PostgreSQL and Redis; CPU is this process's Python alone.
    print("\nms/request (in process, no profiler):    wall   Python CPU")
    for name, (wall, cpu) in timings.items():
        print(f"  {name:<18}{wall:>22.2f}{cpu:>13.2f}")


if __name__ == "__main__":
    main()
