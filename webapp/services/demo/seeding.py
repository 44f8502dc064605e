"""Idempotent seeding of reference data and demo users."""

from dataclasses import dataclass

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Hospital, Organization, Permission, Role, User
from webapp.models.permissions import (
    AIPHAS,
    DOCTOR,
    PERMISSION_DESCRIPTIONS,
    ROLE_PERMISSIONS,
)
from webapp.services.accounts.passwords import temporary_password

HOSPITALS = (
    ("St. Aiken General Hospital", "SAGH"),
    ("Bayview Medical Center", "BMC"),
)
DEPARTMENTS = ("Cardiology", "Neurology", "Oncology")
DEMO_USERS = (
    ("AIPHAS Operator", "aiphas@example.com", AIPHAS, None),
    ("Bob Doctor", "bob.doctor@example.com", DOCTOR, "Cardiology"),
    ("Nancy Doctor", "nancy.doctor@example.com", DOCTOR, "Neurology"),
    ("Tom Doctor", "tom.doctor@example.com", DOCTOR, "Oncology"),
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
    first_hospital = None
    for name, code in HOSPITALS:
        hospital = _get_or_create(Hospital, defaults={"code": code}, name=name)
        first_hospital = first_hospital or hospital
    for department in DEPARTMENTS:
        _get_or_create(Organization, name=department, hospital_id=first_hospital.id)
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
