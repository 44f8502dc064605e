"""Patient search: by any part of a name, date of birth or a source system's identifier."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import aliased

from webapp.common.paging import Page, clamp_page, parse_page
from webapp.extensions import db
from webapp.models import Patient, PatientCost, PatientIdentifier
from webapp.services.patients.names import fold
from webapp.services.patients.scope import (
    Scope,
    hospital_names_of,
    scope_condition,
    scope_params,
    scope_shape,
    visible_ids,
)

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
    # Search every hospital: the entry to break-the-glass; outside rows show name, year, hospital.
    everywhere: bool = False
    errors: list[str] = field(default_factory=list)

    def as_args(self) -> dict:
        """The query as URL parameters (for links and the audit trail)."""
        args = {
            "name": self.name,
            "dob": self.dob.isoformat() if self.dob else "",
            "identifier": self.identifier,
            "sort": "" if self.sort == "name" else self.sort,
            "all_hospitals": "1" if self.everywhere else "",
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
    # Outside the doctor's scope: only name, birth year and hospitals are filled in.
    restricted: bool = False
    hospitals: tuple[str, ...] = ()
    birth_year: int | None = None


def parse_query(args) -> PatientQuery:
    """Read search parameters; bad values become messages, never exceptions."""
    query = PatientQuery(
        name=args.get("name", "").strip()[:120],
        identifier=args.get("identifier", "").strip()[:200],
        page=parse_page(args.get("page")),
        everywhere=args.get("all_hospitals", "") in ("1", "on", "true"),
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
    if query.everywhere and not _has_filters(query) and not query.errors:
        query.errors.append("Searching all hospitals needs a name, date of birth or identifier.")
    return query


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _statement(query: PatientQuery, scope: Scope) -> tuple[Select, dict]:
    """The matching patients' ids as a statement built once per query shape, and its parameters."""
    tokens = fold(query.name).split()
    shape = _Shape(len(tokens), query.dob is not None, bool(query.identifier), query.everywhere)
    params = {
        **{f"name_{n}": f"%{_escape_like(token)}%" for n, token in enumerate(tokens)},
        "dob": query.dob,
        "identifier": query.identifier,
    }
    if query.everywhere:
        return _matching(shape, False, False), params
    return _matching(shape, **scope_shape(scope)), {**params, **scope_params(scope)}


@dataclass(frozen=True)
class _Shape:
    name_tokens: int
    by_dob: bool
    by_identifier: bool
    everywhere: bool


@cache
def _matching(shape: _Shape, hospital: bool, grants: bool) -> Select:
    # Built once per shape: a statement object keeps its compiled form, so a search pays only
    # for its parameters.
    stmt = select(Patient.id)
    if not shape.everywhere:
        stmt = stmt.where(scope_condition(Patient.id, hospital=hospital, grants=grants))
    for n in range(shape.name_tokens):
        stmt = stmt.where(Patient.search_name.like(bindparam(f"name_{n}"), escape="\\"))
    if shape.by_dob:
        stmt = stmt.where(Patient.birth_date == bindparam("dob"))
    if shape.by_identifier:
        linked = select(PatientIdentifier.patient_id).where(
            PatientIdentifier.source_patient_id == bindparam("identifier")
        )
        stmt = stmt.where(Patient.id.in_(linked))
    return stmt


@cache
def _matching_sort_keys(stmt: Select) -> Select:
    return stmt.add_columns(Patient.family_name, Patient.given_name, Patient.birth_date).limit(
        COUNT_CAP + 1
    )


def _has_filters(query: PatientQuery) -> bool:
    return bool(fold(query.name).split() or query.dob or query.identifier)


def search_patients(query: PatientQuery, scope: Scope, per_page: int = PER_PAGE) -> Page:
    """One page of matching patients in the doctor's scope (or everywhere, restricted)."""
    if query.errors:
        return Page(items=[], page=1, per_page=per_page, total=0)
    stmt, params = _statement(query, scope)
    order = SORTS[query.sort]
    if _has_filters(query):
        # Find the matches first (trigram/date indexes, no order), then sort only those: walking
        # the name index and testing each row's name costs hundreds of ms at a million rows.
        # The bitmap scan has the rows in hand, so the sort keys come along and sorting is here.
        found = db.session.execute(_matching_sort_keys(stmt), params).all()
        total = len(found)
        page = clamp_page(query.page, min(total, COUNT_CAP), per_page)
        key, descending = _PYTHON_SORTS[query.sort]
        ranked = sorted(found[:COUNT_CAP], key=key, reverse=descending)
        ids = [row[0] for row in ranked[(page - 1) * per_page : page * per_page]]
    else:
        counted = stmt.limit(COUNT_CAP + 1).subquery()
        total = db.session.scalar(select(func.count()).select_from(counted), params)
        page = clamp_page(query.page, min(total, COUNT_CAP), per_page)
        offset = (page - 1) * per_page
        ordered = stmt.order_by(*order).limit(per_page).offset(offset)
        ids = db.session.scalars(ordered, params).all()
    items = _restricted_rows(ids, scope) if query.everywhere else _rows(ids)
    return Page(items=items, page=page, per_page=per_page, total=total, cap=COUNT_CAP)


def _rows(ids: list[int]) -> list[PatientRow]:
    """The result rows of these patients in one statement: what the table shows, and no more."""
    if not ids:
        return []
    found = {row[0]: row for row in db.session.execute(_rows_statement(), {"ids": ids})}
    rows = []
    for pid in ids:
        _, given, family, birth, sex, source_count, month, cost = found[pid]
        total = Decimal(cost) if cost is not None else None
        rows.append(
            PatientRow(pid, f"{given} {family}".strip(), birth, sex, source_count, month, total)
        )
    return rows


@cache
def _rows_statement() -> Select:
    # Built once; the ids are an expanding parameter.
    sources = (
        select(func.count(PatientIdentifier.source_system.distinct()))
        .where(PatientIdentifier.patient_id == Patient.id)
        .scalar_subquery()
    )
    # The newest month through the (patient_id, month) unique index, one index probe a row.
    month = aliased(PatientCost)
    newest = (
        select(month.id)
        .where(month.patient_id == Patient.id)
        .order_by(month.month.desc())
        .limit(1)
        .correlate(Patient)
        .scalar_subquery()
    )
    return (
        select(
            Patient.id,
            Patient.given_name,
            Patient.family_name,
            Patient.birth_date,
            Patient.sex,
            sources,
            PatientCost.month,
            PatientCost.total_cost,
        )
        .outerjoin(PatientCost, PatientCost.id == newest)
        .where(Patient.id.in_(bindparam("ids", expanding=True)))
    )


def _restricted_rows(ids: list[int], scope: Scope) -> list[PatientRow]:
    # Rows outside the scope carry no more than name, birth year and the hospitals that know them.
    visible = visible_ids(scope, ids)
    full = {row.id: row for row in _rows([pid for pid in ids if pid in visible])}
    hidden = [pid for pid in ids if pid not in visible]
    names = hospital_names_of(hidden)
    brief = {
        row.id: PatientRow(
            row.id,
            f"{row.given_name} {row.family_name}".strip(),
            None,
            "",
            0,
            None,
            None,
            restricted=True,
            hospitals=names.get(row.id, ()),
            birth_year=row.birth_date.year if row.birth_date else None,
        )
        for row in db.session.execute(
            select(Patient.id, Patient.given_name, Patient.family_name, Patient.birth_date).where(
                Patient.id.in_(hidden)
            )
        )
    }
    return [full.get(pid) or brief[pid] for pid in ids]
