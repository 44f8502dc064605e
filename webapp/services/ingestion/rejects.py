"""A run's rejects as AIPHAS staff may see them: where, why, which field, never the values.

A reject's `excerpt` is the refused row itself (names, diagnoses, costs) and its `detail` quotes
the offending value (`cost='abc'`, `birth_date='1990-13-45'`). Both stay in the run's
`rejects.ndjson` in storage for the hospital's own staff; pages and exports built from this
module carry only the file, position, reason, the field's name and a fixed description of what
was wrong with it.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from sqlalchemy import Select, select

from webapp.common.paging import Page, paginate
from webapp.extensions import db
from webapp.models import IngestReject

# What was wrong, per reason code (pipeline/README.md "rejects.ndjson" plus the loader's two),
# and the field a reason is about when the pipeline's detail does not name one.
PROBLEMS = {
    "wrong_column_count": ("(row)", "wrong number of columns"),
    "malformed_csv": ("(row)", "not readable as CSV"),
    "bad_date": ("date", "not a valid date"),
    "bad_cost": ("cost", "not a number"),
    "negative_cost": ("cost", "negative"),
    "absurd_cost": ("cost", "above 1,000,000.00"),
    "missing_field": ("(row)", "empty"),
    "bad_id": ("patient_id", "not an integer"),
    "malformed_json": ("(row)", "not valid JSON"),
    "bad_utf8": ("(row)", "not UTF-8 text"),
    "unsupported_resource": ("resourceType", "not a supported resource type"),
    "unknown_format": ("(file)", "format not recognised"),
    "unresolved_reference": ("reference", "points to nothing in the export"),
    "read_error": ("(file)", "could not be read"),
    "unknown_patient": ("patient_id", "not a platform patient"),
    "duplicate_record_id": ("id", "repeated in this run; the later row was kept"),
}
UNKNOWN_PROBLEM = ("(row)", "refused")
# The pipeline writes details as `<field>=<value>` or `<field> is empty`, where <field> is a
# name from its own code. Only such a leading name is read; the value after it never is.
FIELD_NAME = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]{0,63})(?:=| is empty$)")
CSV_COLUMNS = ("stage", "source_system", "file", "position", "reason", "field", "problem")


@dataclass(frozen=True)
class RedactedReject:
    """One reject without any value from the refused row."""

    id: int
    stage: str
    source_system: str | None
    file: str | None
    position: int | None
    reason: str
    field: str
    problem: str

    @property
    def summary(self) -> str:
        """ "cost: not a number"."""
        return f"{self.field}: {self.problem}"

    def csv_row(self) -> list:
        """The values in CSV_COLUMNS order."""
        return [
            self.stage,
            self.source_system,
            self.file,
            self.position,
            self.reason,
            self.field,
            self.problem,
        ]


def field_and_problem(reason: str, detail: str | None) -> tuple[str, str]:
    """The field a reject is about and what was wrong with it, from its reason and detail."""
    default_field, problem = PROBLEMS.get(reason, UNKNOWN_PROBLEM)
    match = FIELD_NAME.match(detail or "")
    return (match.group(1) if match else default_field), problem


# One-bundle-per-patient exports (Synthea FHIR) name each file after the patient:
# "Jorge_Luis88_Vela532_593aaa05-d864-1df7-5b96-155fbdb19f28.json". The resource id at the end
# finds the file; the name in front of it is not for staff who see no clinical data.
PER_PATIENT_FILE = re.compile(
    r"^(?P<folder>.*/)?(?P<name>[^/]+?)[_-]?"
    r"(?P<id>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"(?:\.[A-Za-z0-9]+)*)$"
)


def redact_file(path: str | None) -> str | None:
    """The file as staff may see it: a per-patient file's name is cut to its resource id."""
    match = PER_PATIENT_FILE.match(path or "")
    if match is None:
        return path
    return f"{match.group('folder') or ''}…{match.group('id')}"


def redact(reject: IngestReject) -> RedactedReject:
    """The reject as staff may see it: no excerpt, no detail."""
    field, problem = field_and_problem(reject.reason, reject.detail)
    return RedactedReject(
        id=reject.id,
        stage=reject.stage,
        source_system=reject.source_system,
        file=redact_file(reject.file),
        position=reject.position,
        reason=reject.reason,
        field=field,
        problem=problem,
    )


def rejects_of(run_id: str) -> Select:
    """A run's rejects in the order they were stored."""
    return select(IngestReject).where(IngestReject.run_id == run_id).order_by(IngestReject.id)


def page_of_rejects(run_id: str, page: int, per_page: int) -> Page:
    """One page of a run's rejects, redacted."""
    found = paginate(db.session, rejects_of(run_id), page, per_page)
    return replace(found, items=[redact(reject) for reject in found.items])


def export_rows(run_id: str, batch: int = 1000) -> Iterator[list]:
    """A run's redacted rejects as CSV values (CSV_COLUMNS), fetched in batches to stream."""
    stmt = rejects_of(run_id).execution_options(yield_per=batch)
    for reject in db.session.scalars(stmt):
        yield redact(reject).csv_row()
