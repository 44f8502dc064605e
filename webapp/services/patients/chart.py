"""A patient's chart: the records as visits (one row per visit, every source that reported it)."""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from webapp.common.paging import Page, clamp_page, parse_page
from webapp.extensions import db
from webapp.models import RECORD_KINDS, MedicalRecord

PER_PAGE = 20
EXPORT_BATCH = 1000


@dataclass
class RecordFilter:
    """Kind and date range a doctor narrowed the records to; `errors` for bad input."""

    kind: str = ""
    start: date | None = None
    end: date | None = None
    page: int = 1
    errors: list[str] = field(default_factory=list)

    def as_args(self) -> dict:
        """The filter as URL parameters."""
        args = {
            "kind": self.kind,
            "from": self.start.isoformat() if self.start else "",
            "to": self.end.isoformat() if self.end else "",
        }
        return {key: value for key, value in args.items() if value}


@dataclass(frozen=True)
class Visit:
    """One record as shown: the first report of a visit and every source that reported it."""

    id: int
    record_date: date
    kind: str
    diagnosis: str | None
    treatment: str | None
    prescription: str | None
    cost: Decimal
    sources: tuple[str, ...]


def _parse_date(raw: str | None, label: str, errors: list[str]) -> date | None:
    if not raw or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        errors.append(f"{label} must be a date such as 2024-01-31.")
        return None


def parse_filter(args) -> RecordFilter:
    """Read the record filter from query parameters; bad values become messages."""
    flt = RecordFilter(page=parse_page(args.get("page")))
    kind = args.get("kind", "").strip()
    if kind in RECORD_KINDS:
        flt.kind = kind
    elif kind:
        flt.errors.append(f"Kind must be one of {', '.join(RECORD_KINDS)}.")
    flt.start = _parse_date(args.get("from"), "From", flt.errors)
    flt.end = _parse_date(args.get("to"), "To", flt.errors)
    if flt.start and flt.end and flt.start > flt.end:
        flt.errors.append("From must not be after To.")
    return flt


def _statement(patient_id: int, flt: RecordFilter):
    # Duplicates are another source's report of a visit already listed: shown as its source.
    stmt = select(MedicalRecord).where(
        MedicalRecord.patient_id == patient_id, MedicalRecord.duplicate_of_id.is_(None)
    )
    if flt.kind:
        stmt = stmt.where(MedicalRecord.kind == flt.kind)
    if flt.start:
        stmt = stmt.where(MedicalRecord.record_date >= flt.start)
    if flt.end:
        stmt = stmt.where(MedicalRecord.record_date <= flt.end)
    return stmt.order_by(MedicalRecord.record_date.desc(), MedicalRecord.id.desc())


def patient_visits(patient_id: int, flt: RecordFilter, per_page: int = PER_PAGE) -> Page:
    """One page of the patient's visits, newest first."""
    if flt.errors:
        return Page(items=[], page=1, per_page=per_page, total=0)
    stmt = _statement(patient_id, flt)
    # One round trip for the page and the total; a count only when the page is past the end.
    counted = stmt.add_columns(func.count().over()).limit(per_page)
    rows = db.session.execute(counted.offset((flt.page - 1) * per_page)).all()
    page = flt.page
    if rows:
        total = rows[0][1]
    else:
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        page = clamp_page(flt.page, total, per_page)
        if page != flt.page:
            rows = db.session.execute(counted.offset((page - 1) * per_page)).all()
    records = [row[0] for row in rows]
    return Page(items=_visits(records), page=page, per_page=per_page, total=total)


def iter_visits(patient_id: int) -> Iterator[Visit]:
    """Every visit of the patient, newest first, read in batches (for the CSV export)."""
    stmt = _statement(patient_id, RecordFilter())
    offset = 0
    while True:
        batch = db.session.scalars(stmt.limit(EXPORT_BATCH).offset(offset)).all()
        yield from _visits(batch)
        if len(batch) < EXPORT_BATCH:
            return
        offset += EXPORT_BATCH


def _visits(records: list[MedicalRecord]) -> list[Visit]:
    sources = defaultdict(list)
    for record in records:
        sources[record.id].append(record.source_system)
    if records:
        duplicates = db.session.execute(
            select(MedicalRecord.duplicate_of_id, MedicalRecord.source_system)
            .where(MedicalRecord.duplicate_of_id.in_([r.id for r in records]))
            .order_by(MedicalRecord.id)
        )
        for original_id, system in duplicates:
            if system not in sources[original_id]:
                sources[original_id].append(system)
    return [
        Visit(
            r.id,
            r.record_date,
            r.kind,
            r.diagnosis,
            r.treatment,
            r.prescription,
            Decimal(r.cost),
            tuple(sources[r.id]),
        )
        for r in records
    ]
