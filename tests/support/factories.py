"""Rows for tests, built through the models the app uses."""

import itertools
from datetime import date
from decimal import Decimal
from functools import cache

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from webapp.extensions import db
from webapp.models import (
    Hospital,
    MedicalRecord,
    Organization,
    Patient,
    PatientIdentifier,
    Role,
    SourceSystem,
    User,
)
from webapp.services.patients.names import match_key, search_name

PASSWORD = "correct horse battery"
_sequence = itertools.count(1)
# Factory doctors work in the first organization; factory patients' systems belong to its
# hospital unless a test says otherwise, so a factory doctor sees a factory patient.
DEFAULT = object()


@cache
def _hash(password: str) -> str:
    # scrypt is slow on purpose; tests hash each distinct password once.
    return generate_password_hash(password, method="scrypt")


def make_user(
    role: str = "DOCTOR", email: str | None = None, password: str = PASSWORD, **fields
) -> User:
    """A committed user with the given role."""
    number = next(_sequence)
    role_row = db.session.scalar(select(Role).filter_by(name=role))
    organization = None
    if role == "DOCTOR":
        organization = db.session.scalar(select(Organization).order_by(Organization.id))
    user = User(
        name=fields.pop("name", f"Test {role.title()} {number}"),
        email=email or f"{role.lower()}{number}@example.test",
        role=role_row,
        organization=fields.pop("organization", organization),
        password_hash=_hash(password),
        **fields,
    )
    db.session.add(user)
    db.session.commit()
    return user


def default_hospital() -> Hospital | None:
    """The hospital of the organization factory doctors work in (None without reference data)."""
    organization = db.session.scalar(select(Organization).order_by(Organization.id))
    return organization.hospital if organization is not None else None


def make_source(name: str, hospital: Hospital | str | None = DEFAULT) -> SourceSystem:
    """A registered source system (kept as it is if already there); a str hospital is a code."""
    source = db.session.scalar(select(SourceSystem).filter_by(name=name))
    if source is None:
        if hospital is DEFAULT:
            hospital = default_hospital()
        elif isinstance(hospital, str):
            hospital = db.session.scalar(select(Hospital).filter_by(code=hospital))
        source = SourceSystem(name=name, hospital=hospital, registered_by="test")
        db.session.add(source)
        db.session.commit()
    return source


def make_doctor_at(hospital_code: str, **fields) -> User:
    """A committed doctor in a department of the hospital with this code (made if needed)."""
    hospital = db.session.scalar(select(Hospital).filter_by(code=hospital_code))
    organization = db.session.scalar(select(Organization).filter_by(hospital_id=hospital.id))
    if organization is None:
        organization = Organization(name="Emergency Medicine", hospital=hospital)
        db.session.add(organization)
        db.session.commit()
    return make_user("DOCTOR", organization=organization, **fields)


def make_patient(
    given="Ana",
    family="García",
    birth=date(1980, 5, 17),
    sex="female",
    source=("hospital-a", None),
    hospital=DEFAULT,
    **fields,
) -> Patient:
    """A committed patient with one source identifier.

    The source system is registered under `hospital` (default: the factory doctors' hospital;
    a code, or None for unassigned) unless it is registered already.
    """
    patient = Patient(
        given_name=given,
        family_name=family,
        birth_date=birth,
        sex=sex,
        search_name=search_name(given, family),
        match_key=match_key(given, family, birth, sex),
        **fields,
    )
    db.session.add(patient)
    db.session.flush()
    system, source_id = source
    make_source(system, hospital)
    db.session.add(
        PatientIdentifier(
            patient_id=patient.id,
            source_system=system,
            source_patient_id=source_id or f"P{patient.id}",
        )
    )
    db.session.commit()
    return patient


def make_record(
    patient: Patient,
    when: date,
    cost: str = "100.00",
    kind: str = "encounter",
    source_system: str = "hospital-a",
    **fields,
) -> MedicalRecord:
    """A committed medical record of a patient."""
    record = MedicalRecord(
        patient_id=patient.id,
        source_system=source_system,
        source_record_id=fields.pop("source_record_id", f"R{next(_sequence)}"),
        kind=kind,
        record_date=when,
        month=when.strftime("%Y-%m"),
        cost=Decimal(cost),
        **fields,
    )
    db.session.add(record)
    db.session.commit()
    return record
