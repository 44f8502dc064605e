"""Resolving a run's source patients: set-based, with the linking rules of one row at a time."""

from contextlib import contextmanager
from datetime import date

from sqlalchemy import event, select

from tests.support.factories import make_patient
from webapp.extensions import db as database
from webapp.models import Patient, PatientIdentifier
from webapp.services.ingestion.loader.identity import PatientResolver


def _row(system, source_id, given, family, birth="1990-01-01", sex="male", **fields):
    return {
        "source_system": system,
        "source_patient_id": source_id,
        "given_name": given,
        "family_name": family,
        "birth_date": birth,
        "sex": sex,
        **fields,
    }


def _letters(number: int) -> str:
    # Match keys keep letters only: Synthea's digits would make every name the same person.
    word = ""
    while True:
        number, digit = divmod(number, 26)
        word += chr(ord("a") + digit)
        if not number:
            return word.capitalize()


@contextmanager
def _statements():
    seen = []

    def count(*_args):
        seen.append(1)

    engine = database.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _identifiers() -> dict[tuple[str, str], tuple[int, str]]:
    rows = database.session.execute(
        select(
            PatientIdentifier.source_system,
            PatientIdentifier.source_patient_id,
            PatientIdentifier.patient_id,
            PatientIdentifier.link_method,
        )
    )
    return {(system, sid): (pid, method) for system, sid, pid, method in rows}


def test_new_ids_link_to_stored_and_earlier_patients_or_create_them(on_backend):
    stored = make_patient(given="Ana", family="García", source=("a", "P0"))
    resolver = PatientResolver()
    systems = resolver.resolve_all(
        [
            _row("a", "P1", "Ana", "Garcia", "1980-05-17", "female"),  # the stored Ana
            _row("a", "P2", "Bo1", "Li2", city="Lyon"),  # new
            _row("b", "Q9", "Bo", "Li", sex="M"),  # same person as P2, met later in the run
            _row("a", "P2", "Someone", "Else"),  # a repeat of P2: its first row counts
            _row("a", "P3", "", "Li"),  # no match key: always new
            _row("a", "P4", "", "Li"),
            _row("a", "P0", "Ana", "García", "1980-05-17", "female"),  # stored already
        ]
    )
    on_backend.session.commit()
    assert systems == {"a", "b"}
    assert (resolver.created, resolver.linked) == (3, 2)
    ids = _identifiers()
    assert ids[("a", "P0")] == (stored.id, "new")
    assert ids[("a", "P1")] == (stored.id, "demographic-match")
    bo = ids[("a", "P2")][0]
    assert ids[("a", "P2")] == (bo, "new") and ids[("b", "Q9")] == (bo, "demographic-match")
    assert ids[("a", "P3")][1] == ids[("a", "P4")][1] == "new"
    assert stored.id < bo < ids[("a", "P3")][0] < ids[("a", "P4")][0]  # file order
    person = on_backend.session.get(Patient, bo)
    assert (person.given_name, person.family_name, person.city) == ("Bo1", "Li2", "Lyon")
    assert (person.birth_date, person.search_name, person.match_key) == (
        date(1990, 1, 1),
        "bo1 li2",
        "bo|li|1990-01-01|m",
    )
    assert resolver.patient_for(("b", "Q9")) == bo


def test_a_second_resolution_of_the_same_rows_changes_nothing(on_backend):
    rows = [_row("a", f"P{n}", _letters(n), "Family") for n in range(5)]
    first = PatientResolver()
    first.resolve_all(rows)
    assert first.created == 5
    before = _identifiers()
    again = PatientResolver()
    again.resolve_all(rows)
    assert (again.created, again.linked) == (0, 0)
    assert _identifiers() == before


def test_thousands_of_new_patients_take_a_few_statements_not_one_each(on_backend):
    rows = [_row("a", f"P{n}", _letters(n), "Family") for n in range(3000)]
    with _statements() as seen:
        resolver = PatientResolver()
        resolver.resolve_all(rows)
    assert resolver.created == 3000
    assert len(seen) < 40, len(seen)
