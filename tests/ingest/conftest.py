"""A helper to ingest through the CLI with storage in a temporary folder."""

import pytest


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
