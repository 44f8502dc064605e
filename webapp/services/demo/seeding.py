"""Idempotent seeding of reference data and demo users."""

from dataclasses import dataclass

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Hospital, Organization, Permission, Role, SourceSystem, User
from webapp.models.permissions import (
    AIPHAS,
    DOCTOR,
    PERMISSION_DESCRIPTIONS,
    ROLE_PERMISSIONS,
)
from webapp.services.accounts.passwords import temporary_password
from webapp.services.demo.bulk_patients import DEMO_SOURCE
from webapp.services.demo.exports import FHIR_SYSTEM, LEGACY_SYSTEM, SYNTHEA_SYSTEM
from webapp.services.ingestion.sources import plan_with_new_sources

HOSPITALS = (
    ("St. Aiken General Hospital", "SAGH"),
    ("Bayview Medical Center", "BMC"),
)
DEPARTMENTS = ("Cardiology", "Neurology", "Oncology")
# Departments of the second hospital (Bayview Medical Center).
SECOND_HOSPITAL_DEPARTMENTS = ("Emergency Medicine",)
DEMO_USERS = (
    ("AIPHAS Operator", "aiphas@example.com", AIPHAS, None),
    ("Bob Doctor", "bob.doctor@example.com", DOCTOR, "Cardiology"),
    ("Nancy Doctor", "nancy.doctor@example.com", DOCTOR, "Neurology"),
    ("Tom Doctor", "tom.doctor@example.com", DOCTOR, "Emergency Medicine"),
)
# The demo's systems under both hospitals, so Bob (St. Aiken) and Tom (Bayview) see different
# patients: the platform's own patients and the legacy feed are St. Aiken's, Synthea and FHIR
# exports Bayview's.
DEMO_SOURCES = (
    (DEMO_SOURCE, "SAGH", "Patients registered on the aiKey platform (demo)"),
    (LEGACY_SYSTEM, "SAGH", "St. Aiken legacy platform CSV export (demo)"),
    (SYNTHEA_SYSTEM, "BMC", "Bayview Synthea CSV export (demo)"),
    (FHIR_SYSTEM, "BMC", "Valley clinic FHIR bundles, sent through Bayview (demo)"),
)


@dataclass
class SeededUsers:
    """What seeding did to the demo accounts."""

    created: list[str]
    existing: list[str]
    password: str | None
    password_generated: bool


def _get_or_create(model, defaults: dict | None = None, **keys):
    row = db.session.scalar(select(model).filter_by(**keys))
    if row is None:
        row = model(**keys, **(defaults or {}))
        db.session.add(row)
        db.session.flush()
    return row


def seed_reference_data() -> None:
    """Hospitals, their departments, permissions and roles."""
    hospitals = [
        _get_or_create(Hospital, defaults={"code": code}, name=name) for name, code in HOSPITALS
    ]
    for department in DEPARTMENTS:
        _get_or_create(Organization, name=department, hospital_id=hospitals[0].id)
    for department in SECOND_HOSPITAL_DEPARTMENTS:
        _get_or_create(Organization, name=department, hospital_id=hospitals[1].id)
    permissions = {
        name: _get_or_create(Permission, defaults={"description": text}, name=name)
        for name, text in PERMISSION_DESCRIPTIONS.items()
    }
    for role_name, granted in ROLE_PERMISSIONS.items():
        role = _get_or_create(Role, name=role_name)
        role.permissions = [permissions[name] for name in granted]
    db.session.commit()


def seed_users(password: str | None) -> SeededUsers:
    """Create the demo accounts that do not exist yet; never touch existing ones."""
    generated = password is None
    password = password or temporary_password()
    created, existing = [], []
    for name, email, role_name, department in DEMO_USERS:
        if db.session.scalar(select(User).filter_by(email=email)) is not None:
            existing.append(email)
            continue
        role = db.session.scalar(select(Role).filter_by(name=role_name))
        organization = (
            db.session.scalar(select(Organization).filter_by(name=department))
            if department
            else None
        )
        user = User(name=name, email=email, role=role, organization=organization)
        user.set_password(password)
        db.session.add(user)
        created.append(email)
    db.session.commit()
    return SeededUsers(created, existing, password if created else None, generated)


def seed_demo_sources() -> None:
    """Put the demo's source systems under their hospitals; an operator's choice is kept."""
    for name, code, description in DEMO_SOURCES:
        hospital = db.session.scalar(select(Hospital).filter_by(code=code))
        source = _get_or_create(SourceSystem, defaults={"registered_by": "seed"}, name=name)
        if source.hospital_id is None:  # new, or met by a run before seeding
            source.hospital = hospital
            source.description = source.description or description
    _move_tom_to_bayview()
    db.session.commit()
    plan_with_new_sources()
    db.session.commit()


def _move_tom_to_bayview() -> None:
    # Earlier seeds put Tom in St. Aiken's Oncology; the demo needs a doctor of each hospital.
    tom = db.session.scalar(select(User).filter_by(email="tom.doctor@example.com"))
    wanted = db.session.scalar(select(Organization).filter_by(name="Emergency Medicine"))
    if tom is not None and tom.organization is not None and tom.organization.name == "Oncology":
        tom.organization = wanted
