"""Sign-in timing: a wrong password on a real email vs the same on an unknown email.

    python bench/signin_timing.py [--rounds 40]

Runs the app in-process on a throw-away SQLite database (rate limits raised, CSRF off) and
prints the median and p90 of POST /login for both cases, for checks that run (attempts 1-5)
and for answers while locked (attempt 6). Close figures mean the timing tells an attacker
nothing about which emails have accounts.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from webapp import MIGRATIONS_DIR, create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import Role, User  # noqa: E402
from webapp.services.demo.seeding import seed_reference_data  # noqa: E402


def build_app(folder: str):
    """The app on a fresh SQLite file, migrated and seeded with reference data."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "LOGIN_RATE_LIMIT": "1000000 per minute",
            "LOGIN_EMAIL_RATE_LIMIT": "1000000 per minute",
        }
    )
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        seed_reference_data()
    return app


def timed_attempts(client, email: str) -> list[float]:
    """Six wrong passwords in a row; seconds each."""
    times = []
    for _ in range(6):
        started = time.perf_counter()
        client.post("/login", data={"email": email, "password": "wrong password 1"})
        times.append(time.perf_counter() - started)
    return times


def summary(label: str, seconds: list[float]) -> str:
    """Median and p90 in milliseconds."""
    ms = sorted(s * 1000 for s in seconds)
    return (
        f"{label:<28} median {statistics.median(ms):7.1f} ms   p90 {ms[int(len(ms) * 0.9)]:7.1f} ms"
    )


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(folder)
        client = app.test_client()
        real = {"checked": [], "locked": []}
        unknown = {"checked": [], "locked": []}
        with app.app_context():
            role = db.session.query(Role).filter_by(name="DOCTOR").one()
            for n in range(rounds):
                user = User(name=f"Bench {n}", email=f"bench{n}@example.test", role=role)
                user.set_password("the real password 2026")
                db.session.add(user)
            db.session.commit()
        for n in range(rounds):
            for email, into in (
                (f"bench{n}@example.test", real),
                (f"none{n}@example.test", unknown),
            ):
                times = timed_attempts(client, email)
                into["checked"] += times[:5]
                into["locked"].append(times[5])
        print(summary("real email, checked", real["checked"]))
        print(summary("unknown email, checked", unknown["checked"]))
        print(summary("real email, locked", real["locked"]))
        print(summary("unknown email, locked", unknown["locked"]))


if __name__ == "__main__":
    main()
