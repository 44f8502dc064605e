"""The one rule for which patients a doctor may see.

A patient is in scope when any of their identifiers comes from a source system of the doctor's
hospital (through the doctor's organization), or when the doctor holds an unexpired
break-the-glass grant for them. Search, chart, costs, exports and live pushes all ask here.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, bindparam, false, literal, or_, select

from webapp.common.clock import utcnow
from webapp.extensions import db
from webapp.models import BreakGlassGrant, Hospital, PatientIdentifier, SourceSystem, User
from webapp.services.patients.break_glass import granted_patient_ids


@dataclass(frozen=True)
class Scope:
    """What one doctor may see: their hospital and the patients they broke the glass for."""

    hospital_id: int | None
    granted: frozenset[int] = frozenset()

    @property
    def cache_key(self) -> str:
        """A short text naming this scope, for cache keys of scoped reads."""
        grants = ",".join(str(pid) for pid in sorted(self.granted))
        return f"h{self.hospital_id or 0}g{grants}"

    def allows(self, patient_id: int, hospital_ids: Iterable[int]) -> bool:
        """True for a patient known to these hospitals (no database query)."""
        return patient_id in self.granted or self.hospital_id in set(hospital_ids)


def scope_of(user: User) -> Scope:
    """The scope of a signed-in user: their organization's hospital and active grants."""
    organization = user.organization
    hospital_id = organization.hospital_id if organization is not None else None
    granted = user.grant_patient_ids_loaded  # read with the session (sessions.find_session*)
    if granted is None:
        granted = granted_patient_ids(user.id)
    return Scope(hospital_id, frozenset(granted))


def _known_to_hospital(hospital_id, patient_id_column) -> ColumnElement:
    return (
        select(literal(1))
        .select_from(PatientIdentifier)
        .join(SourceSystem, SourceSystem.name == PatientIdentifier.source_system)
        .where(
            PatientIdentifier.patient_id == patient_id_column,
            SourceSystem.hospital_id == hospital_id,
        )
        .exists()
    )


def in_scope(scope: Scope, patient_id_column) -> ColumnElement:
    """A SQL condition on a patient id column: true for the patients the scope allows."""
    return _condition(patient_id_column, scope.hospital_id, sorted(scope.granted) or None)


def _condition(patient_id_column, hospital_id, granted) -> ColumnElement:
    # The one rule, for values or parameters: known to the hospital, or granted. None: absent.
    conditions = []
    if hospital_id is not None:
        conditions.append(_known_to_hospital(hospital_id, patient_id_column))
    if granted is not None:
        conditions.append(patient_id_column.in_(granted))
    return or_(*conditions) if conditions else false()


def scope_condition(patient_id_column, *, hospital: bool, grants: bool) -> ColumnElement:
    """`in_scope` with the scope as parameters (`scope_params`), so a statement using it is
    built once per shape: whether the scope has a hospital and whether it has grants."""
    return _condition(
        patient_id_column,
        bindparam("scope_hospital_id") if hospital else None,
        bindparam("scope_granted", expanding=True) if grants else None,
    )


def scope_shape(scope: Scope) -> dict:
    """The shape `scope_condition` is built for."""
    return {"hospital": scope.hospital_id is not None, "grants": bool(scope.granted)}


def scope_params(scope: Scope) -> dict:
    """The parameters `scope_condition` reads."""
    return {"scope_hospital_id": scope.hospital_id, "scope_granted": sorted(scope.granted)}


def viewer_sees(patient_id_column) -> ColumnElement:
    """The same rule as `in_scope(scope_of(user), ...)` as one SQL condition, grants included, so
    a page that reads one patient learns whether it may show them in that same statement.

    The viewer comes in as parameters (`viewer_params`), so a statement using it is built once.
    """
    granted = (
        select(literal(1))
        .select_from(BreakGlassGrant)
        .where(
            BreakGlassGrant.user_id == bindparam("viewer_id"),
            BreakGlassGrant.patient_id == patient_id_column,
            BreakGlassGrant.expires_at > bindparam("viewer_now"),
        )
        .exists()
    )
    # A doctor without a hospital compares hospital_id to NULL: known to no hospital.
    return or_(_known_to_hospital(bindparam("viewer_hospital_id"), patient_id_column), granted)


def viewer_params(user: User) -> dict:
    """The parameters `viewer_sees` reads: the user, their hospital and the time now."""
    organization = user.organization
    hospital_id = organization.hospital_id if organization is not None else None
    return {"viewer_id": user.id, "viewer_hospital_id": hospital_id, "viewer_now": utcnow()}


def visible_ids(scope: Scope, patient_ids: Iterable[int]) -> set[int]:
    """Which of these patients the scope allows."""
    ids = set(patient_ids)
    if not ids:
        return set()
    hospitals = hospitals_of(ids)
    return {pid for pid in ids if scope.allows(pid, hospitals.get(pid, ()))}


def can_see(scope: Scope, patient_id: int) -> bool:
    """True when the scope allows this one patient."""
    return patient_id in visible_ids(scope, [patient_id])


def hospitals_of(patient_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    """The hospitals whose source systems know each patient (unassigned systems count for none)."""
    found = defaultdict(set)
    ids = sorted(set(patient_ids))
    if ids:
        rows = db.session.execute(
            select(PatientIdentifier.patient_id, SourceSystem.hospital_id)
            .join(SourceSystem, SourceSystem.name == PatientIdentifier.source_system)
            .where(PatientIdentifier.patient_id.in_(ids), SourceSystem.hospital_id.is_not(None))
            .distinct()
        )
        for pid, hospital_id in rows:
            found[pid].add(hospital_id)
    return {pid: frozenset(found[pid]) for pid in ids}


def hospital_names_of(patient_ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    """The names of the hospitals that know each patient, sorted."""
    hospitals = hospitals_of(patient_ids)
    wanted = set().union(*hospitals.values()) if hospitals else set()
    names = dict(
        db.session.execute(select(Hospital.id, Hospital.name).where(Hospital.id.in_(wanted))).all()
        if wanted
        else []
    )
    return {pid: tuple(sorted(names[h] for h in hids)) for pid, hids in hospitals.items()}
