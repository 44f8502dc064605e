"""The embedded default `make run` uses: SQLite migrations, seed, demo exports and ingest."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def flask(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_sqlite_upgrade_seed_exports_ingest_and_downgrade(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'aikey.db'}",
        "STORAGE_URI": str(tmp_path / "storage"),
        "SEED_PASSWORD": "embedded test pw 1",
    }
    env.pop("REDIS_URL", None)
    for step in (["db", "upgrade"], ["seed"], ["demo-exports"], ["ingest"]):
        result = flask(step, env)
        assert result.returncode == 0, (step, result.stdout, result.stderr)
    assert "Reconciliation:    ok" in result.stdout
    assert "Patients linked:   4" in result.stdout
    again = flask(["ingest"], env)
    assert "Patients created:  0" in again.stdout
    down = flask(["db", "downgrade", "base"], env)
    assert down.returncode == 0, down.stderr
