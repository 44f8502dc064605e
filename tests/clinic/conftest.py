"""Fixtures for the doctor dashboard tests."""

import pytest

from webapp.services.costs.recompute import recompute_costs


@pytest.fixture
def doctor(client, auth):
    """The test client, signed in as a doctor."""
    auth.login("DOCTOR")
    return client


@pytest.fixture
def recompute(db):
    """Rebuild costs of the given patients and commit, as a completed load does."""

    def run(*patients):
        recompute_costs(p.id for p in patients)
        db.session.commit()

    return run
