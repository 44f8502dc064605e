"""The cost table: the most recently updated monthly cost rows across patients (cached)."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select

from webapp.common.paging import Page, clamp_page
from webapp.extensions import db
from webapp.models import Patient, PatientCost
from webapp.services.costs.cache import COST_TABLE_VERSION_KEY, cached
from webapp.services.patients.scope import Scope, in_scope

PER_PAGE = 50
# Pages deeper than this cost an ever larger OFFSET; the CSV export covers the rest.
MAX_PAGE = 200
EXPORT_LIMIT = 100_000
EXPORT_BATCH = 2000


@dataclass(frozen=True)
class CostRow:
    """One patient's total for one month, as the cost table and its live updates show it."""

    patient_id: int
    patient_name: str
    month: str
    total: Decimal
    record_count: int
    updated_at: datetime


# Renders a page's rows as HTML (the view's template, passed down).
Present = Callable[[list["CostRow"]], str]


def _statement(scope: Scope | None = None):
    stmt = (
        select(
            PatientCost.patient_id,
            Patient.given_name,
            Patient.family_name,
            PatientCost.month,
            PatientCost.total_cost,
            PatientCost.record_count,
            PatientCost.updated_at,
        )
        .join(Patient, Patient.id == PatientCost.patient_id)
        .order_by(PatientCost.updated_at.desc(), PatientCost.id.desc())
    )
    return stmt if scope is None else stmt.where(in_scope(scope, PatientCost.patient_id))


def _row(pid, given, family, month, total, count, updated) -> CostRow:
    return CostRow(pid, f"{given} {family}".strip(), month, Decimal(total), count, updated)


def row_of(cost: PatientCost, patient: Patient) -> CostRow:
    """The table row of a loaded patient_cost row and its patient."""
    return _row(
        cost.patient_id,
        patient.given_name,
        patient.family_name,
        cost.month,
        cost.total_cost,
        cost.record_count,
        cost.updated_at,
    )


def cost_row(patient_id: int, month: str) -> CostRow | None:
    """One row of the table, read fresh (for pushing a single changed row)."""
    stmt = _statement().where(PatientCost.patient_id == patient_id, PatientCost.month == month)
    found = db.session.execute(stmt).first()
    return _row(*found) if found else None


def _load(page: int, per_page: int, scope: Scope) -> tuple[list[CostRow], bool]:
    stmt = _statement(scope).limit(per_page + 1).offset((page - 1) * per_page)
    rows = [_row(*found) for found in db.session.execute(stmt)]
    return rows[:per_page], len(rows) > per_page


def _cached_load(
    page: int, per_page: int, scope: Scope, present: Present | None
) -> tuple[list[CostRow], bool, str | None]:
    # Each scope (hospital and break-the-glass grants) has its own cached pages; the rows'
    # HTML, when asked for, is cached with the rows it shows, so it is never older than them.
    shape = "html" if present else "rows"
    name = f"costs:table:{shape}:{scope.cache_key}:{page}:{per_page}"

    def load() -> tuple[list[CostRow], bool, str | None]:
        rows, more = _load(page, per_page, scope)
        return rows, more, present(rows) if present else None

    return cached(COST_TABLE_VERSION_KEY, name, load)


def _last_page(per_page: int, scope: Scope) -> int:
    # Counts no further than the deepest page shown, so it costs what that page's OFFSET does.
    shown = _statement(scope).order_by(None).limit(MAX_PAGE * per_page).subquery()
    return clamp_page(
        MAX_PAGE, db.session.scalar(select(func.count()).select_from(shown)), per_page
    )


def latest_costs_page(
    page: int, scope: Scope, per_page: int = PER_PAGE, present: Present | None = None
) -> tuple[Page, str | None]:
    """One page of the newest cost rows in the scope, and the rows as `present` renders them
    (None without it); a page past the end shows the last page.

    No total is counted (millions of rows): only a page past the end counts, and only as far
    as the deepest page shown.
    """
    page = min(max(page, 1), MAX_PAGE)
    rows, more, html = _cached_load(page, per_page, scope, present)
    if not rows and page > 1:
        page = _last_page(per_page, scope)
        rows, more, html = _cached_load(page, per_page, scope, present)
    shown = Page(
        items=rows, page=page, per_page=per_page, total=len(rows), has_more=more and page < MAX_PAGE
    )
    return shown, html


def iter_cost_rows(scope: Scope, limit: int = EXPORT_LIMIT) -> Iterator[CostRow]:
    """The newest `limit` rows in the scope, read in batches (for the CSV export)."""
    last = None
    sent = 0
    while sent < limit:
        stmt = _statement(scope).add_columns(PatientCost.id).limit(min(EXPORT_BATCH, limit - sent))
        if last is not None:
            updated, row_id = last
            stmt = stmt.where(
                (PatientCost.updated_at < updated)
                | ((PatientCost.updated_at == updated) & (PatientCost.id < row_id))
            )
        batch = db.session.execute(stmt).all()
        for *values, _row_id in batch:
            yield _row(*values)
        if len(batch) < EXPORT_BATCH:
            return
        sent += len(batch)
        last = (batch[-1][6], batch[-1][7])
