"""Patient search: by any part of a name, date of birth or a source system's identifier."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from webapp.common.paging import Page, clamp_page, parse_page
from webapp.extensions import db
from webapp.models import Patient, PatientCost, PatientIdentifier
from webapp.services.patients.names import fold

PER_PAGE = 25
# A broader match is sorted and paged only this far: the doctor is asked to narrow it instead.
COUNT_CAP = 250
SORTS = {
    "name": (Patient.family_name, Patient.given_name, Patient.id),
    "-name": (Patient.family_name.desc(), Patient.given_name.desc(), Patient.id.desc()),
    "dob": (Patient.birth_date.asc().nulls_last(), Patient.id),
    "-dob": (Patient.birth_date.desc().nulls_last(), Patient.id.desc()),
}

# The same orders for rows already fetched as (id, family, given, birth date); str order is the
# code-point order of the C.UTF-8 collation the database uses.
_PYTHON_SORTS = {
    "name": (lambda r: (r[1], r[2], r[0]), False),
    "-name": (lambda r: (r[1], r[2], r[0]), True),
    "dob": (lambda r: (r[3] is None, r[3] or date.min, r[0]), False),
    "-dob": (lambda r: (r[3] is not None, r[3] or date.min, r[0]), True),
}


@dataclass
class PatientQuery:
    """What the doctor asked for, parsed; `errors` explains anything that was not understood."""

    name: str = ""
    dob: date | None = None
    identifier: str = ""
    sort: str = "name"
    page: int = 1
    errors: list[str] = field(default_factory=list)

    def as_args(self) -> dict:
        """The query as URL parameters (for links and the audit trail)."""
        args = {
            "name": self.name,
            "dob": self.dob.isoformat() if self.dob else "",
            "identifier": self.identifier,
            "sort": "" if self.sort == "name" else self.sort,
        }
        return {key: value for key, value in args.items() if value}


@dataclass(frozen=True)
class PatientRow:
    """One search result row."""

    id: int
    full_name: str
    birth_date: date | None
    sex: str
    source_count: int
    latest_month: str | None
    latest_cost: Decimal | None


def parse_query(args) -> PatientQuery:
    """Read search parameters; bad values become messages, never exceptions."""
    query = PatientQuery(
        name=args.get("name", "").strip()[:120],
        identifier=args.get("identifier", "").strip()[:200],
        page=parse_page(args.get("page")),
    )
    sort = args.get("sort", "name")
    if sort in SORTS:
        query.sort = sort
    raw_dob = args.get("dob", "").strip()
    if raw_dob:
        try:
            query.dob = date.fromisoformat(raw_dob)
        except ValueError:
            query.errors.append("Date of birth must be a date such as 1980-05-17.")
    return query


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _statement(query: PatientQuery):
    stmt = select(Patient.id)
    for token in fold(query.name).split():
        stmt = stmt.where(Patient.search_name.like(f"%{_escape_like(token)}%", escape="\\"))
    if query.dob:
        stmt = stmt.where(Patient.birth_date == query.dob)
    if query.identifier:
        linked = select(PatientIdentifier.patient_id).where(
            PatientIdentifier.source_patient_id == query.identifier
        )
        stmt = stmt.where(Patient.id.in_(linked))
    return stmt


def _has_filters(query: PatientQuery) -> bool:
    return bool(fold(query.name).split() or query.dob or query.identifier)


def search_patients(query: PatientQuery, per_page: int = PER_PAGE) -> Page:
    """One page of matching patients with their source count and latest monthly cost."""
    if query.errors:
        return Page(items=[], page=1, per_page=per_page, total=0)
    stmt = _statement(query)
    if _has_filters(query):
        # Find the matches first (trigram/date indexes, no order), then sort only those: walking
        # the name index and testing each row's name costs hundreds of ms at a million rows.
        # The bitmap scan has the rows in hand, so the sort keys come along and sorting is here.
        found = db.session.execute(stmt.add_columns(*_SHOWN).limit(COUNT_CAP + 1)).all()
        total = len(found)
        page = clamp_page(query.page, min(total, COUNT_CAP), per_page)
        key, descending = _PYTHON_SORTS[query.sort]
        ranked = sorted(found[:COUNT_CAP], key=key, reverse=descending)
        shown = ranked[(page - 1) * per_page : page * per_page]
    else:
        counted = stmt.limit(COUNT_CAP + 1).subquery()
        total = db.session.scalar(select(func.count()).select_from(counted))
        page = clamp_page(query.page, min(total, COUNT_CAP), per_page)
        ordered = stmt.add_columns(*_SHOWN).order_by(*SORTS[query.sort])
        shown = db.session.execute(ordered.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=_rows(shown), page=page, per_page=per_page, total=total, cap=COUNT_CAP)


# The columns a result row shows, after Patient.id: (id, family, given, birth date, sex).
_SHOWN = (Patient.family_name, Patient.given_name, Patient.birth_date, Patient.sex)


def _rows(shown) -> list[PatientRow]:
    if not shown:
        return []
    extras = {row[0]: row[1:] for row in db.session.execute(_extras([row[0] for row in shown]))}
    rows = []
    for pid, family, given, birth, sex in shown:
        sources, month, cost = extras[pid]
        rows.append(
            PatientRow(
                pid,
                f"{given} {family}".strip(),
                birth,
                sex,
                sources or 0,
                month,
                Decimal(cost) if cost is not None else None,
            )
        )
    return rows


def _extras(ids: list[int]):
    """Source count and latest month with its total, for the shown patients (one round trip)."""
    sources = select(func.count(PatientIdentifier.source_system.distinct())).where(
        PatientIdentifier.patient_id == Patient.id
    )
    newest = (
        select(PatientCost.month, PatientCost.total_cost)
        .where(PatientCost.patient_id == Patient.id)
        .order_by(PatientCost.month.desc())
        .limit(1)
    )
    return select(
        Patient.id,
        sources.scalar_subquery(),
        newest.with_only_columns(PatientCost.month).scalar_subquery(),
        newest.with_only_columns(PatientCost.total_cost).scalar_subquery(),
    ).where(Patient.id.in_(ids))
