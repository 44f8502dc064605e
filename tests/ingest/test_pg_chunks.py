"""New records go in by bounded chunks of the staged rows, all in the load's one transaction."""

from sqlalchemy import select

from tests.support.factories import make_patient
from tests.support.pipeline_inputs import write_file
from webapp.models import IngestReject, MedicalRecord, PatientCost
from webapp.services.ingestion.loader import pg_bulk

LEGACY_HEADER = (
    "id,patient_id,record_date,diagnosis,treatment,prescription,cost,notes,"
    "created_time,updated_time\n"
)


def test_records_spread_over_many_chunks_all_load_once(ingest, tmp_path, db, monkeypatch):
    monkeypatch.setattr(pg_bulk, "CHUNK_ROWS", 2)
    first, second = make_patient(), make_patient()
    rows = [f"{n},{(first, second)[n % 2].id},2024-0{n % 3 + 1}-05,Flu,Rest,,{n}.00,,x,y\n"
            for n in range(1, 8)]  # fmt: skip
    rows.append(f"3,{first.id},2024-01-05,Flu,Rest,,30.00,,x,y\n")  # id 3 again: this row wins
    write_file(tmp_path / "incoming" / "old", "r.csv", LEGACY_HEADER + "".join(rows))
    result = ingest(tmp_path / "incoming")
    assert "Reconciliation:    ok" in result.output
    records = db.session.execute(select(MedicalRecord.source_record_id, MedicalRecord.cost))
    costs = {record_id: str(cost) for record_id, cost in records}
    assert costs == {f"r.csv#{n}": f"{n}.00" for n in (1, 2, 4, 5, 6, 7)} | {"r.csv#3": "30.00"}
    assert [r.reason for r in db.session.scalars(select(IngestReject))] == ["duplicate_record_id"]
    total = sum(cost.total_cost for cost in db.session.scalars(select(PatientCost)))
    assert str(total) == "55.00"
    stamps = dict(db.session.execute(select(MedicalRecord.id, MedicalRecord.updated_at)).all())
    ingest(tmp_path / "incoming")  # a second run changes nothing
    db.session.expire_all()
    again = dict(db.session.execute(select(MedicalRecord.id, MedicalRecord.updated_at)).all())
    assert again == stamps
