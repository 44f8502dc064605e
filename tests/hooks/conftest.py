"""An app that trusts tokens from a test key, with storage in a folder of its own."""

import pytest

from tests.support.dataflow import DataflowStandIn
from tests.support.oidc import CertServer, SigningKey, hook_settings
from tests.support.settings import app_settings
from webapp import create_app
from webapp.services import storage


@pytest.fixture(scope="session")
def signing_key():
    """The key the test 'Google' signs hook tokens with."""
    return SigningKey("test-key-1")


@pytest.fixture(scope="session")
def cert_server(signing_key):
    """The test key's certificate served like Google's certs endpoint."""
    server = CertServer(signing_key)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def storage_root(tmp_path_factory):
    """$STORAGE_URI of the hook app."""
    return tmp_path_factory.mktemp("storage")


@pytest.fixture(scope="module")
def hook_app(database_url, cert_server, storage_root):
    """The app under test, configured for hooks."""
    return create_app(
        app_settings(database_url, STORAGE_URI=str(storage_root), **hook_settings(cert_server.url))
    )


@pytest.fixture
def hook_client(hook_app, db):
    """A client of the hook app on a clean database."""
    return hook_app.test_client()


@pytest.fixture
def output_uri(storage_root):
    """Where a run of the hook app writes its output."""
    return lambda run_id: storage.join(str(storage_root), "output", run_id)


@pytest.fixture(scope="module")
def dataflow_app(database_url, cert_server):
    """The app with PIPELINE_RUNNER=dataflow against a local stand-in of the Dataflow API."""
    stand_in = DataflowStandIn()
    app = create_app(
        app_settings(
            database_url,
            STORAGE_URI="gs://aikey-test/prod",
            PIPELINE_RUNNER="dataflow",
            DATAFLOW_ENDPOINT=stand_in.url,
            DATAFLOW_TEMPLATE="gs://aikey-test/templates/ingest",
            GCP_PROJECT="aikey-test",
            GCP_REGION="europe-west1",
            **hook_settings(cert_server.url),
        )
    )
    app.stand_in = stand_in
    return app
