"""A patient's chart: the records as visits (one row per visit, every source that reported it)."""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache

from sqlalchemy import Integer, Select, bindparam, cast, func, null, select, union_all

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


# Only the columns a visit shows: rows, not ORM objects.
_COLUMNS = (
    MedicalRecord.id,
    MedicalRecord.record_date,
    MedicalRecord.kind,
    MedicalRecord.diagnosis,
    MedicalRecord.treatment,
    MedicalRecord.prescription,
    MedicalRecord.cost,
    MedicalRecord.source_system,
)


def _filter_params(patient_id: int, flt: RecordFilter) -> dict:
    return {"patient_id": patient_id, "kind": flt.kind, "start": flt.start, "end": flt.end}


@cache
def _statement(by_kind: bool, from_start: bool, to_end: bool) -> Select:
    # Built once per filter shape: the chart runs on every view, and a statement object keeps
    # its compiled form, so only the parameters change.
    # Duplicates are another source's report of a visit already listed: shown as its source.
    stmt = select(*_COLUMNS).where(
        MedicalRecord.patient_id == bindparam("patient_id"),
        MedicalRecord.duplicate_of_id.is_(None),
    )
    if by_kind:
        stmt = stmt.where(MedicalRecord.kind == bindparam("kind"))
    if from_start:
        stmt = stmt.where(MedicalRecord.record_date >= bindparam("start"))
    if to_end:
        stmt = stmt.where(MedicalRecord.record_date <= bindparam("end"))
    return stmt.order_by(MedicalRecord.record_date.desc(), MedicalRecord.id.desc())


def _shape(flt: RecordFilter) -> tuple[bool, bool, bool]:
    return bool(flt.kind), flt.start is not None, flt.end is not None


@cache
def _page_statement(shape: tuple[bool, bool, bool]):
    """A page of visits, the filter's total and the sources of their duplicates, as one
    statement (built once per filter shape; limit and offset are parameters)."""
    stmt = _statement(*shape)
    page = stmt.add_columns(func.count().over().label("total"))
    page = page.limit(bindparam("limit")).offset(bindparam("offset")).cte("visit_page")
    originals = select(*(page.c[c.key] for c in _COLUMNS), page.c.total, _no_int())
    copies = select(*_COLUMNS, _no_int(), MedicalRecord.duplicate_of_id).where(
        MedicalRecord.duplicate_of_id.in_(select(page.c.id))
    )
    return union_all(originals, copies)


def _visits_and_total(params: dict, shape, limit: int, offset: int) -> tuple[list[Visit], int]:
    """One round trip: a page of visits, the filter's total, and the sources of their duplicates."""
    query = {**params, "limit": limit, "offset": offset}
    rows = db.session.execute(_page_statement(shape), query).all()
    firsts = sorted((r for r in rows if r[9] is None), key=lambda r: (r[1], r[0]), reverse=True)
    sources = defaultdict(list)
    for row in firsts + sorted((r for r in rows if r[9] is not None), key=lambda r: r[0]):
        key = row[9] if row[9] is not None else row[0]
        if row[7] not in sources[key]:
            sources[key].append(row[7])
    visits = [Visit(*r[:6], Decimal(r[6]), tuple(sources[r[0]])) for r in firsts]
    return visits, (firsts[0][8] if firsts else 0)


def _no_int():
    return cast(null(), Integer)


def patient_visits(patient_id: int, flt: RecordFilter, per_page: int = PER_PAGE) -> Page:
    """One page of the patient's visits, newest first."""
    if flt.errors:
        return Page(items=[], page=1, per_page=per_page, total=0)
    params, shape = _filter_params(patient_id, flt), _shape(flt)
    page = flt.page
    visits, total = _visits_and_total(params, shape, per_page, (page - 1) * per_page)
    if not visits and page > 1:  # past the end: count, then show the last page
        counted = select(func.count()).select_from(_statement(*shape).order_by(None).subquery())
        total = db.session.scalar(counted, params)
        page = clamp_page(flt.page, total, per_page)
        if page != flt.page:
            visits, total = _visits_and_total(params, shape, per_page, (page - 1) * per_page)
    return Page(items=visits, page=page, per_page=per_page, total=total)


def iter_visits(patient_id: int) -> Iterator[Visit]:
    """Every visit of the patient, newest first, read in batches (for the CSV export)."""
    flt = RecordFilter()
    params, shape = _filter_params(patient_id, flt), _shape(flt)
    offset = 0
    while True:
        batch, _total = _visits_and_total(params, shape, EXPORT_BATCH, offset)
        yield from batch
        if len(batch) < EXPORT_BATCH:
            return
        offset += EXPORT_BATCH
