"""Every CSV export: a UTF-8 BOM first, no cell a spreadsheet runs as a formula."""

import csv
import io
from datetime import UTC, date, datetime

import pytest

from tests.support.factories import make_patient, make_record
from webapp.common.spreadsheet import BOM, CHUNK_CHARS, csv_chunks
from webapp.models import AuditEvent
from webapp.services.costs.recompute import recompute_costs

LEADING = ("=", "+", "-", "@", "\t", "\r", "\n")
NAME = "Jerónimo599 Muñoz"


def _records(db):
    patient = make_patient("Jerónimo599", "Muñoz")
    for number, char in enumerate(LEADING, start=1):
        make_record(patient, date(2024, 1, number), diagnosis=f"{char}SUM(A{number})")
    make_record(patient, date(2024, 2, 1), diagnosis=f"Fractura: {NAME}")
    return "DOCTOR", f"/patients/{patient.id}/records.csv", "diagnosis", f"Fractura: {NAME}"


def _costs(db):
    # The cost table shows "given family": the family name carries the payload mid-cell,
    # so each patient's own name is what must not start a formula.
    patients = [make_patient(f"{char}SUM(A{n})", "Family") for n, char in enumerate(LEADING)]
    patients.append(make_patient("Jerónimo599", "Muñoz"))
    for patient in patients:
        make_record(patient, date(2024, 1, 1))
    recompute_costs(p.id for p in patients)
    db.session.commit()
    return "DOCTOR", "/costs.csv", "patient", NAME


def _audit(db):
    when = datetime(2024, 1, 1, tzinfo=UTC)
    paths = [f"{char}SUM(A{n})" for n, char in enumerate(LEADING)] + [f"/patients/{NAME}"]
    db.session.add_all(AuditEvent(action="test.csv", occurred_at=when, path=p) for p in paths)
    db.session.commit()
    return "AIPHAS", "/admin/audit.csv?action=test.csv", "path", f"/patients/{NAME}"


EXPORTS = {"patient records": _records, "costs": _costs, "audit": _audit}


def download(client, auth, db, name):
    """The export's raw bytes, the payload column's cells, and the accented cell it must hold."""
    role, url, column, accented = EXPORTS[name](db)
    auth.login(role)
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data()
    rows = csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline=""))
    return body, [row[column] for row in rows], accented


@pytest.mark.parametrize("name", EXPORTS)
def test_export_starts_with_a_bom_and_keeps_accented_names(client, auth, db, name):
    body, cells, accented = download(client, auth, db, name)
    assert body.startswith(b"\xef\xbb\xbf") and not body.startswith(b"\xef\xbb\xbf" * 2)
    assert accented in cells
    assert NAME.encode("utf-8") in body


@pytest.mark.parametrize("name", EXPORTS)
def test_export_neutralises_every_formula_character(client, auth, db, name):
    _, cells, _ = download(client, auth, db, name)
    assert not [cell for cell in cells if cell.startswith(LEADING)]
    for number, char in enumerate(LEADING):
        payload = f"{char}SUM(A{number + (name == 'patient records')})"
        if name == "costs":
            # The cost table trims the name it joins; a leading space character is lost there.
            payload = f"{payload} Family".strip()
        guarded = payload if not payload.startswith(LEADING) else "'" + payload
        assert guarded in cells, (name, repr(char))


def test_writer_sends_the_header_at_once_then_chunks_that_lose_no_row():
    rows = [(n, f"name {n}", "=1+1" if n % 2 else "Muñoz") for n in range(20_000)]
    chunks = list(csv_chunks(("id", "name", "note"), rows))
    assert chunks[0] == BOM + "id,name,note\r\n"
    assert len(chunks) > 3 and all(len(chunk) < CHUNK_CHARS + 100 for chunk in chunks)
    parsed = list(csv.reader(io.StringIO("".join(chunks).removeprefix(BOM), newline="")))
    assert parsed[1:] == [[str(n), name, "'" + note if n % 2 else note] for n, name, note in rows]
