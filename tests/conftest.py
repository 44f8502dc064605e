"""Root of the suite: the sample-data fixture, and the app fixtures for all but tests/pipeline.

tests/pipeline needs neither PostgreSQL, Redis nor the web app (the pipeline runs alone on
Dataflow), so `pytest tests/pipeline` loads none of them. Any other test pulls in
tests/support/app_fixtures.py, which stops the session (exit 3) when the servers are down.
"""

from pathlib import Path

import pytest

from tests.support.suite import is_pipeline_test

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data():
    """The real sample exports in ../shared/data; skipped with a reason where a clone lacks them."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"sample data folder {SHARED_DATA} is missing; these tests need it")
    return SHARED_DATA


def _only_pipeline_tests(config) -> bool:
    # Fixtures must exist before collection, so this goes by the paths asked for; the server
    # check itself then goes by what was collected (app_fixtures.pytest_collection_finish).
    paths = [Path(config.invocation_params.dir, arg.split("::")[0]) for arg in config.args]
    return bool(paths) and all(is_pipeline_test(path) for path in paths)


def pytest_configure(config):
    """Load the app fixtures unless only pipeline tests were asked for."""
    if not _only_pipeline_tests(config):
        config.pluginmanager.import_plugin("tests.support.app_fixtures")
