"""Paths to the shared sample exports and a helper to ingest through the CLI."""

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture
def shared_data():
    """The real sample exports beside the project; skipped with a reason where missing."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"sample data not found at {SHARED_DATA} (a clone without ../shared)")
    return SHARED_DATA


@pytest.fixture
def ingest(runner, tmp_path, monkeypatch):
    """Run `flask ingest` with storage in a temporary folder; returns the CLI result."""
    monkeypatch.setitem(runner.app.config, "STORAGE_URI", str(tmp_path / "storage"))

    def run(*uris: str, expect_ok: bool = True):
        result = runner.invoke(args=["ingest", *map(str, uris)])
        if expect_ok:
            assert result.exit_code == 0, result.output + repr(result.exception)
        return result

    return run
