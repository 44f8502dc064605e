"""flask seed, seed_data.py and the bulk patient generator."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from webapp.models import MedicalRecord, Patient, PatientCost, User
from webapp.services.demo.seeding import DEMO_USERS

ROOT = Path(__file__).resolve().parent.parent


def test_seed_creates_demo_users_roles_and_patients(runner, db, monkeypatch):
    monkeypatch.setitem(runner.app.config, "SEED_PASSWORD", "demo password 2026")
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    emails = {u.email: u for u in db.session.scalars(select(User))}
    assert set(emails) == {email for _, email, _, _ in DEMO_USERS}
    assert emails["aiphas@example.com"].role.name == "AIPHAS"
    assert emails["bob.doctor@example.com"].organization.name == "Cardiology"
    assert emails["bob.doctor@example.com"].check_password("demo password 2026")
    assert db.session.scalar(select(func.count(Patient.id))) > 0
    assert "aiphas@example.com" in result.output


def test_seed_is_idempotent(runner, db):
    first = runner.invoke(args=["seed"])
    counts = [db.session.scalar(select(func.count(m.id))) for m in (User, Patient, MedicalRecord)]
    second = runner.invoke(args=["seed"])
    again = [db.session.scalar(select(func.count(m.id))) for m in (User, Patient, MedicalRecord)]
    assert first.exit_code == second.exit_code == 0
    assert counts == again
    assert "Generated password" in first.output
    assert "Generated password" not in second.output


def test_bulk_patients_have_costs_equal_to_their_records(runner, db):
    result = runner.invoke(args=["seed", "--patients", "1200"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count(Patient.id))) == 1200
    assert db.session.scalar(select(func.count(MedicalRecord.id))) == 6000
    by_month = db.session.execute(
        select(
            MedicalRecord.patient_id,
            MedicalRecord.month,
            func.sum(MedicalRecord.cost),
            func.count(),
        ).group_by(MedicalRecord.patient_id, MedicalRecord.month)
    ).all()
    costs = {
        (c.patient_id, c.month): (c.total_cost, c.record_count)
        for c in db.session.scalars(select(PatientCost))
    }
    assert costs == {(p, m): (Decimal(t), n) for p, m, t, n in by_month}


def test_seed_data_script_runs_the_same_seed(database_url, db):
    env = {**os.environ, "DATABASE_URL": database_url, "SEED_PASSWORD": "script password 1"}
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "seed_data.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "tom.doctor@example.com" in result.stdout
    db.session.expire_all()
    assert db.session.scalar(select(func.count(User.id))) == len(DEMO_USERS)
