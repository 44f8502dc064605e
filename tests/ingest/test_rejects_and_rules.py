"""Bad rows are refused with reasons while good rows load; months follow the source's offset."""

import json

from sqlalchemy import func, select

from tests.support.factories import make_patient
from webapp.models import IngestReject, MedicalRecord, PatientCost, PatientIdentifier, PipelineRun
from webapp.services.demo.exports import write_demo_exports

LEGACY_HEADER = (
    "id,patient_id,record_date,diagnosis,treatment,prescription,cost,notes,"
    "created_time,updated_time\n"
)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def fhir_bundle(patient_id, encounter_start, cost):
    patient = {
        "resourceType": "Patient",
        "id": patient_id,
        "gender": "female",
        "birthDate": "1970-01-02",
        "name": [{"given": ["Zoë"], "family": "Offset"}],
    }
    encounter = {
        "resourceType": "Encounter",
        "id": "e1",
        "class": {"code": "AMB"},
        "subject": {"reference": f"Patient/{patient_id}"},
        "period": {"start": encounter_start},
    }
    claim = {
        "resourceType": "Claim",
        "id": "c1",
        "patient": {"reference": f"Patient/{patient_id}"},
        "item": [{"encounter": [{"reference": "Encounter/e1"}]}],
        "total": {"value": cost},
    }
    entries = [
        {"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r}
        for r in (patient, encounter, claim)
    ]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})


def test_bad_rows_are_rejected_and_good_rows_of_the_same_file_load(ingest, tmp_path, db):
    patient = make_patient()
    incoming = tmp_path / "incoming" / "old-platform"
    write(
        incoming / "records.csv",
        LEGACY_HEADER
        + f"1,{patient.id},2024-03-05,Flu,Rest,,50.00,,x,y\n"
        + f"2,{patient.id},2024-13-45,Flu,Rest,,50.00,,x,y\n"
        + f"3,{patient.id},2024-03-06,Flu,Rest,,abc,,x,y\n"
        + f"4,{patient.id},2024-03-07,Flu,Rest,,-5.00,,x,y\n"
        + f"5,{patient.id},2024-03-08,Flu\n"
        + "6,424242,2024-03-09,Flu,Rest,,10.00,,x,y\n",
    )
    ingest(tmp_path / "incoming")
    reasons = sorted(db.session.scalars(select(IngestReject.reason)))
    assert reasons == [
        "bad_cost",
        "bad_date",
        "negative_cost",
        "unknown_patient",
        "wrong_column_count",
    ]
    for reject in db.session.scalars(select(IngestReject)):
        assert reject.file.endswith("records.csv") and reject.reason
    assert db.session.scalars(select(MedicalRecord.source_record_id)).all() == ["records.csv#1"]
    run = db.session.scalars(select(PipelineRun)).one()
    assert run.rows_rejected == 5 and run.rejects_by_reason["bad_date"] == 1


def test_month_follows_the_offset_the_source_recorded(ingest, tmp_path, db):
    # 20:00 on 31 August in California is already September in UTC; the chart says August.
    write(
        tmp_path / "incoming" / "valley" / "b.json",
        fhir_bundle("p1", "2021-08-31T20:00:00-07:00", 120.5),
    )
    ingest(tmp_path / "incoming")
    record = db.session.scalars(select(MedicalRecord)).one()
    assert record.month == "2021-08"
    cost = db.session.scalars(select(PatientCost)).one()
    assert (cost.month, str(cost.total_cost), cost.record_count) == ("2021-08", "120.50", 1)


def test_overlapping_runs_leave_the_same_rows(ingest, tmp_path, db):
    patient = make_patient()
    first = write(
        tmp_path / "a" / "incoming" / "old" / "r.csv",
        LEGACY_HEADER + f"1,{patient.id},2024-03-05,Flu,Rest,,50.00,,x,y\n",
    )
    ingest(first)
    write(
        first,
        LEGACY_HEADER
        + f"1,{patient.id},2024-03-05,Flu,Rest,,50.00,,x,y\n"
        + f"2,{patient.id},2024-03-20,Flu,Rest,,25.00,,x,y\n",
    )
    ingest(first)
    ingest(first)
    assert db.session.scalar(select(func.count(MedicalRecord.id))) == 2
    cost = db.session.scalars(select(PatientCost)).one()
    assert (str(cost.total_cost), cost.record_count) == ("75.00", 2)


def test_a_corrected_cost_replaces_the_old_one_rather_than_adding(ingest, tmp_path, db):
    patient = make_patient()
    path = write(
        tmp_path / "incoming" / "old" / "r.csv",
        LEGACY_HEADER + f"1,{patient.id},2024-03-05,Flu,Rest,,50.00,,x,y\n",
    )
    ingest(path)
    write(path, LEGACY_HEADER + f"1,{patient.id},2024-03-05,Flu,Rest,,80.00,,x,y\n")
    ingest(path)
    cost = db.session.scalars(select(PatientCost)).one()
    assert (str(cost.total_cost), cost.record_count) == ("80.00", 1)


def test_demo_exports_ingest_with_links_duplicates_and_rejects(ingest, runner, tmp_path, db):
    patients = [make_patient(given=f"Demo{n}", family="Patient") for n in range(5)]
    write_demo_exports(str(tmp_path / "storage"), [p.id for p in patients])
    result = ingest()  # default input: $STORAGE_URI/incoming
    assert "Reconciliation:    ok" in result.output
    reasons = set(db.session.scalars(select(IngestReject.reason)))
    assert reasons == {"bad_cost", "bad_date", "malformed_json", "unknown_patient"}
    linked = db.session.scalar(
        select(func.count(PatientIdentifier.id)).where(
            PatientIdentifier.link_method == "demographic-match"
        )
    )
    assert linked == 4
    assert (
        db.session.scalar(
            select(func.count(MedicalRecord.id)).where(MedicalRecord.duplicate_of_id.is_not(None))
        )
        > 0
    )


def test_a_run_with_no_input_files_fails_with_a_reason(ingest, tmp_path, db):
    result = ingest(tmp_path / "empty", expect_ok=False)
    assert result.exit_code != 0 and "no input files" in result.output
    run = db.session.scalars(select(PipelineRun)).one()
    assert run.status == "failed" and "no input files" in run.error


def _flu_visits(patient_id: int, *visits: tuple[int, str, str]) -> str:
    """A legacy CSV of flu visits of one patient: (record id, date, cost) each."""
    lines = (f"{rid},{patient_id},{day},Flu,Rest,,{cost},,x,y\n" for rid, day, cost in visits)
    return LEGACY_HEADER + "".join(lines)


def test_a_repeated_record_id_in_one_file_keeps_the_later_row(ingest, tmp_path, db):
    patient = make_patient()
    write(
        tmp_path / "incoming" / "old" / "r.csv",
        _flu_visits(patient.id, (7, "2024-03-05", "50.00"), (7, "2024-03-05", "70.00")),
    )
    result = ingest(tmp_path / "incoming")
    assert "Reconciliation:    ok" in result.output
    record = db.session.scalars(select(MedicalRecord)).one()
    assert str(record.cost) == "70.00"
    reject = db.session.scalars(select(IngestReject)).one()
    assert reject.reason == "duplicate_record_id" and reject.position == 2


def test_a_record_moved_to_another_patient_and_month_leaves_its_old_month(ingest, tmp_path, db):
    first, second = make_patient(), make_patient()
    path = write(
        tmp_path / "incoming" / "old" / "r.csv",
        LEGACY_HEADER
        + f"1,{first.id},2024-03-05,Flu,Rest,,50.00,,x,y\n"
        + f"2,{first.id},2024-03-06,Flu,Rest,,20.00,,x,y\n",
    )
    ingest(path)
    kept = db.session.scalars(select(MedicalRecord).filter_by(source_record_id="r.csv#2")).one()
    kept_updated_at = kept.updated_at
    write(
        path,
        LEGACY_HEADER
        + f"1,{second.id},2024-04-05,Flu,Rest,,50.00,,x,y\n"
        + f"2,{first.id},2024-03-06,Flu,Rest,,20.00,,x,y\n",
    )
    ingest(path)
    db.session.expire_all()
    costs = db.session.execute(
        select(PatientCost.patient_id, PatientCost.month, PatientCost.record_count)
    ).all()
    assert sorted(costs) == sorted([(first.id, "2024-03", 1), (second.id, "2024-04", 1)])
    assert db.session.scalar(select(func.count(MedicalRecord.id))) == 2
    # The unchanged record was not rewritten.
    assert db.session.get(MedicalRecord, kept.id).updated_at == kept_updated_at


def test_an_id_repeated_three_times_keeps_only_its_last_row(ingest, tmp_path, db):
    patient = make_patient()
    visits = [(7, "2024-03-05", "50.00"), (8, "2024-03-06", "10.00")]
    visits += [(7, "2024-03-05", "60.00"), (7, "2024-03-05", "70.00")]
    write(tmp_path / "incoming" / "old" / "r.csv", _flu_visits(patient.id, *visits))
    result = ingest(tmp_path / "incoming")
    assert "Reconciliation:    ok" in result.output
    costs = sorted(str(cost) for cost in db.session.scalars(select(MedicalRecord.cost)))
    assert costs == ["10.00", "70.00"]
    rejects = db.session.scalars(select(IngestReject).order_by(IngestReject.position)).all()
    assert [(r.reason, r.position) for r in rejects] == [
        ("duplicate_record_id", 2),
        ("duplicate_record_id", 4),
    ]
