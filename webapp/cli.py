"""Flask CLI commands: flask seed, ..."""

import click
from flask import current_app
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Patient
from webapp.services.bulk_patients import add_patients
from webapp.services.seeding import DEMO_USERS, seed_reference_data, seed_users

DEMO_PATIENTS = 60


def run_seed(patients: int | None, echo=click.echo) -> None:
    """Seed reference data, demo users and patients; safe to run again."""
    seed_reference_data()
    users = seed_users(current_app.config.get("SEED_PASSWORD"))
    echo(f"Users: {len(users.created)} created, {len(users.existing)} already present.")
    if users.created and users.password_generated:
        echo(f"Generated password for the new demo users (shown once): {users.password}")
    if patients is None:
        patients = 0 if db.session.scalar(select(func.count(Patient.id))) else DEMO_PATIENTS
    if patients:
        with click.progressbar(length=patients, label=f"Adding {patients} patients") as bar:
            add_patients(patients, progress=bar.update)
    echo("Demo logins:")
    for _, email, role, _ in DEMO_USERS:
        echo(f"  {role:<7} {email}")


@click.command("seed")
@click.option(
    "--patients",
    type=click.IntRange(min=0),
    default=None,
    help="Add this many synthetic patients (default: 60 demo patients on an empty database).",
)
def seed_command(patients: int | None) -> None:
    """Fill the database with reference data, demo users and demo patients (idempotent)."""
    run_seed(patients)


def init_app(app):
    """Register the commands."""
    app.cli.add_command(seed_command)
