"""gs:// input and output against an in-process fake GCS (gcp-storage-emulator)."""

import json
import socket

import pytest

from pipeline.contract import record_from_line
from pipeline.run import run_pipeline

LEGACY = "id,patient_id,record_date,diagnosis,treatment,prescription,cost,notes,"
LEGACY += "created_time,updated_time\n"
LEGACY += "1,7,2024-01-02,Flu,Rest,P,10.00,n,x,y\n2,7,2024-01-03,Flu,Rest,P,x,n,x,y\n"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gcs(monkeypatch):
    """Start the emulator with bucket test-bucket; yield a google.cloud.storage bucket."""
    server_mod = pytest.importorskip("gcp_storage_emulator.server")
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    port = _free_port()
    server = server_mod.create_server(
        "127.0.0.1", port, in_memory=True, default_bucket="test-bucket"
    )
    server.start()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    try:
        client = storage.Client(project="test", credentials=AnonymousCredentials())
        yield client.bucket("test-bucket")
    finally:
        server.stop()


def test_gs_input_and_output(gcs):
    gcs.blob("incoming/clinic-a/2024/records.csv").upload_from_string(LEGACY)
    manifest = run_pipeline(
        ["gs://test-bucket/incoming/clinic-a/"],
        "gs://test-bucket/out",
        run_id="gcs-1",
        extra_args=["--no_auth"],
    )
    names = {b.name for b in gcs.list_blobs(prefix="out/")}
    expected = {f"out/{n}" for n in ("patients.ndjson", "records.tsv", "rejects.ndjson")}
    expected |= {"out/totals.ndjson", "out/_SUCCESS"}
    assert names == expected
    records = gcs.blob("out/records.tsv").download_as_text().splitlines()
    assert [record_from_line(r)["source_record_id"] for r in records] == ["2024/records.csv#1"]
    assert (
        record_from_line(records[0])["provenance"]["file"]
        == "gs://test-bucket/incoming/clinic-a/2024/records.csv"
    )
    rejects = [
        json.loads(r) for r in gcs.blob("out/rejects.ndjson").download_as_text().splitlines()
    ]
    assert [r["reason"] for r in rejects] == ["bad_cost"]
    success = json.loads(gcs.blob("out/_SUCCESS").download_as_text())
    assert success == manifest
    assert manifest["inputs"][0]["source_system"] == "clinic-a"
    assert manifest["inputs"][0]["generation"]
    assert manifest["counts"]["records"] == 1
