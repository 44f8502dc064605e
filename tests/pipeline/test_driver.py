"""The driver end to end: five output files, _SUCCESS last with a correct manifest; the same
graph built as a Dataflow classic template, run with launch-time parameters."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from apache_beam.options.pipeline_options import GoogleCloudOptions, StandardOptions
from apache_beam.options.value_provider import RuntimeValueProvider
from apache_beam.runners.dataflow.internal import apiclient

from pipeline.discovery import source_of
from pipeline.run import TEMPLATE_PARAMETERS, build_pipeline, run_pipeline
from tests.support.pipeline_inputs import read_lines, write_file

OUTPUTS = {"patients.ndjson", "records.tsv", "rejects.ndjson", "totals.ndjson", "_SUCCESS"}


def test_run_pipeline_writes_all_outputs_and_manifest(tmp_path):
    incoming = tmp_path / "incoming"
    write_file(
        incoming / "legacy",
        "2024/a.csv",
        "1,7,2024-01-02,Flu,Rest,P,10.00,n,x,y\n1,7,2024-01-09,Flu,Rest,P,2.5,n,x,y\n3,8,bad,Flu,Rest,P,1,n,x,y",
    )
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "2000-01-02", "gender": "male"}
    write_file(incoming / "hosp", "Patient.ndjson", json.dumps(patient) + "\n")
    out = tmp_path / "out"
    manifest = run_pipeline([str(incoming)], str(out), run_id="run-1")
    assert {p.name for p in out.iterdir()} == OUTPUTS
    records = read_lines(out / "records.tsv")
    assert sorted(r["source_record_id"] for r in records) == ["2024/a.csv#1", "2024/a.csv#1"]
    assert {r["source_system"] for r in records} == {"legacy"}
    assert [r["reason"] for r in read_lines(out / "rejects.ndjson")] == ["bad_date"]
    assert read_lines(out / "totals.ndjson") == [
        {
            "source_system": "legacy",
            "patient": {"platform_patient_id": 7},
            "month": "2024-01",
            "total_cost": "12.50",
            "record_count": 2,
        }
    ]
    assert [p["source_system"] for p in read_lines(out / "patients.ndjson")] == ["hosp"]
    on_disk = json.loads((out / "_SUCCESS").read_text(encoding="utf-8"))
    assert on_disk == manifest
    assert manifest["run_id"] == "run-1"
    counts = manifest["counts"]
    assert (counts["files"], counts["rows_read"], counts["records"]) == (2, 4, 2)
    assert (counts["patients"], counts["rejected"], counts["totals"]) == (1, 1, 1)
    assert counts["rejected_by_reason"] == {"bad_date": 1}
    formats = {(i["relpath"], i["source_system"], i["format"]) for i in manifest["inputs"]}
    assert formats == {
        ("2024/a.csv", "legacy", "legacy_csv"),
        ("Patient.ndjson", "hosp", "fhir_ndjson"),
    }
    assert all(i["generation"] for i in manifest["inputs"])
    assert manifest["outputs"]["records"] == "records.tsv"
    # A re-run replaces the files and the manifest; no temp folders are left behind.
    again = run_pipeline([str(incoming)], str(out), source_system="override")
    assert {p.name for p in out.iterdir()} == OUTPUTS
    assert {i["source_system"] for i in again["inputs"]} == {"override"}
    assert again["run_id"] != "run-1"


def test_cli_module_runs(tmp_path, shared_data, monkeypatch):
    out = tmp_path / "out"
    shutil.copytree(shared_data / "legacy-csv", tmp_path / "legacy-csv")
    argv = ["pipeline.run", "--input", str(tmp_path / "legacy-csv" / "*.csv"), "--output", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    from pipeline import run as driver

    manifest = driver.run()
    assert manifest["counts"]["records"] == 15
    assert len((out / "records.tsv").read_text().splitlines()) == 15


@pytest.mark.parametrize(
    ("path", "override", "expected"),
    [
        ("/d/incoming/st-marys/2024/x.csv", None, ("st-marys", "2024/x.csv")),
        ("gs://b/incoming/kaiser/x.json", None, ("kaiser", "x.json")),
        ("/d/synthea-ca/csv/patients.csv", None, ("csv", "patients.csv")),
        ("/d/synthea-ca/fhir/a.json", "other", ("other", "a.json")),
    ],
)
def test_source_system_rule(path, override, expected):
    assert source_of(path, override) == expected


# --dry_run skips Beam's soft-delete check on the buckets, the one network call at construction.
DATAFLOW = ["--runner", "DataflowRunner", "--region", "us-central1", "--dry_run", "True"]
DATAFLOW += [
    "--staging_location",
    "gs://aikey-staging/staging",
    "--setup_file",
    "pipeline/setup.py",
]


def test_dataflow_options_construct_without_submitting(tmp_path):
    write_file(tmp_path / "in", "a.csv", "1,7,2024-01-02,Flu,Rest,P,10.00,n,x,y\n")
    argv = ["--input", str(tmp_path / "in"), "--output", "gs://aikey-out/run"]
    argv += [*DATAFLOW, "--project", "aikey-test", "--temp_location", "gs://aikey-tmp/t"]
    pipeline, plan = build_pipeline(argv, save_main_session=False)
    options = pipeline.options
    assert options.view_as(StandardOptions).runner == "DataflowRunner"
    gcp = options.view_as(GoogleCloudOptions)
    assert (gcp.project, gcp.region, gcp.temp_location) == (
        "aikey-test",
        "us-central1",
        "gs://aikey-tmp/t",
    )
    assert plan.output == "gs://aikey-out/run" and plan.tmp_dir.startswith(
        "gs://aikey-out/run/_tmp-"
    )
    labels = {t.unique_name for t in pipeline.to_runner_api().components.transforms.values()}
    assert {"Parse files", "Control totals", "Write records.tsv shards 0", "Write files"} <= labels


def test_pipeline_imports_nothing_from_webapp():
    # A fresh interpreter: the rest of the suite has imported webapp into this one.
    probe = (
        "import sys, pipeline.run; "
        "bad = [m for m in sys.modules if m == 'webapp' or m.startswith('webapp.')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dataflow_validation_rejects_placeholder_project(tmp_path):
    # Beam validates Dataflow options when the pipeline is constructed: a one-letter project
    # such as "p" is refused before anything could be submitted.
    write_file(tmp_path / "in", "a.csv", "1,7,2024-01-02,Flu,Rest,P,10.00,n,x,y\n")
    argv = ["--input", str(tmp_path / "in"), "--output", "gs://b/out"]
    argv += [*DATAFLOW, "--project", "p", "--temp_location", "gs://b/t"]
    with pytest.raises(ValueError, match="Invalid Project ID"):
        build_pipeline(argv, save_main_session=False)


TEMPLATE = [*DATAFLOW, "--project", "aikey-test", "--temp_location", "gs://aikey-tmp/t"]
TEMPLATE += ["--template_location", "gs://aikey-templates/ingest"]


def test_template_build_reads_no_parameter_at_construction(monkeypatch):
    # Outside a running job RuntimeValueProvider.get() raises: any read at construction fails.
    monkeypatch.setattr(RuntimeValueProvider, "runtime_options", None)
    pipeline, plan = build_pipeline(TEMPLATE, save_main_session=False)
    assert plan.template and (plan.run_id, plan.output, plan.tmp_dir) == (None, None, None)
    labels = {t.unique_name for t in pipeline.to_runner_api().components.transforms.values()}
    assert {"Discover inputs", "Parse files", "Write files", "Write _SUCCESS"} <= labels
    # --dry_run builds the Dataflow job without submitting it; the options the template file
    # would carry declare the launch parameters with no value baked in.
    job = pipeline.run().job
    environment = apiclient.Environment(
        [], job.options, "1", "gs://aikey-staging/staging/pipeline.pb", job.proto_pipeline
    )
    options = environment.proto.sdk_pipeline_options["options"]
    # The parameters webapp/services/dataflow.py sends (input, output, run_id) and source_system.
    assert {k: options[k] for k in TEMPLATE_PARAMETERS} == dict.fromkeys(TEMPLATE_PARAMETERS)
    assert set(TEMPLATE_PARAMETERS) == {"input", "output", "run_id", "source_system"}


@pytest.mark.parametrize("flag", [["--input", "gs://b/in"], ["--output", "gs://b/o"]])
def test_template_build_refuses_fixed_inputs_or_output(flag):
    with pytest.raises(SystemExit):
        build_pipeline(TEMPLATE + flag, save_main_session=False)


def test_local_run_requires_input_and_output():
    with pytest.raises(SystemExit):
        build_pipeline(["--output", "/tmp/x"], save_main_session=False)


_SET_RUNTIME_OPTIONS = RuntimeValueProvider.set_runtime_options.__func__


def _launch_with(monkeypatch, parameters):
    """Make the in-process runner see template launch parameters, as Dataflow workers do.

    The runner resets the runtime options when it starts; on Dataflow the worker sets them from
    the job's options, into which the launch parameters were merged.
    """

    def with_parameters(cls, options):
        _SET_RUNTIME_OPTIONS(cls, {**(options or {}), **parameters})

    monkeypatch.setattr(RuntimeValueProvider, "set_runtime_options", classmethod(with_parameters))


def test_template_graph_runs_with_runtime_parameters_and_writes_success_itself(
    tmp_path, monkeypatch
):
    legacy = write_file(
        tmp_path / "a" / "legacy",
        "x.csv",
        "1,7,2024-01-02,Flu,Rest,P,10.00,n,x,y\n2,7,2024-01-09,Flu,Rest,P,x,n,x,y\n",
    )
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "2000-01-02", "gender": "male"}
    fhir = write_file(tmp_path / "b" / "hosp", "Patient.ndjson", json.dumps(patient) + "\n")
    out = tmp_path / "output" / "run-7"
    write_file(out, "_SUCCESS", "{}")  # stale
    # The template graph (no --runner: it runs on the in-process runner, not Dataflow).
    monkeypatch.setattr(RuntimeValueProvider, "runtime_options", None)
    pipeline, plan = build_pipeline(["--template_location", "unused-here"], save_main_session=False)
    assert plan.template and plan.output is None
    _launch_with(
        monkeypatch,
        {"input": f"{legacy.parent},{fhir}", "output": str(out), "run_id": "run-7"},
    )
    # No driver post-processing: only the pipeline itself runs.
    pipeline.run().wait_until_finish()
    assert {p.name for p in out.iterdir()} == OUTPUTS
    manifest = json.loads((out / "_SUCCESS").read_text(encoding="utf-8"))
    assert (manifest["run_id"], manifest["output"]) == ("run-7", str(out))
    counts = manifest["counts"]
    assert (counts["files"], counts["rows_read"], counts["records"]) == (2, 3, 1)
    assert (counts["patients"], counts["rejected"], counts["totals"]) == (1, 1, 1)
    assert counts["rejected_by_reason"] == {"bad_cost": 1}
    assert manifest["line_counts"] == {"patients": 1, "records": 1, "rejects": 1, "totals": 1}
    assert [(i["uri"], i["source_system"], i["format"]) for i in manifest["inputs"]] == [
        (str(legacy), "legacy", "legacy_csv"),
        (str(fhir), "hosp", "fhir_ndjson"),
    ]
    assert [r["source_record_id"] for r in read_lines(out / "records.tsv")] == ["x.csv#1"]
    assert len(read_lines(out / "totals.ndjson")) == 1

    # Relaunch with source_system and without run_id: the run id falls back to the folder name.
    pipeline, _ = build_pipeline(["--template_location", "unused-here"], save_main_session=False)
    _launch_with(monkeypatch, {"input": str(legacy), "output": f"{out}/", "source_system": "s"})
    pipeline.run().wait_until_finish()
    assert {p.name for p in out.iterdir()} == OUTPUTS
    again = json.loads((out / "_SUCCESS").read_text(encoding="utf-8"))
    assert (again["run_id"], again["output"]) == ("run-7", str(out))
    assert [(i["uri"], i["source_system"]) for i in again["inputs"]] == [(str(legacy), "s")]
    assert again["line_counts"]["patients"] == 0


def test_stale_success_is_deleted_by_the_job_before_inputs_are_read(tmp_path):
    out = tmp_path / "out"
    write_file(out, "_SUCCESS", "{}")
    # Discovery fails inside the job (no such input), after its first step removed _SUCCESS.
    with pytest.raises(Exception, match="no input files match"):
        run_pipeline([str(tmp_path / "missing")], str(out), run_id="r")
    assert not (out / "_SUCCESS").exists()
