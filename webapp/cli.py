"""Flask CLI commands: flask seed, ..."""

import sys
import time

import click
from flask import current_app
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Patient
from webapp.services.audit.events import record_event
from webapp.services.demo.bulk_patients import add_patients
from webapp.services.demo.exports import write_demo_exports
from webapp.services.demo.second_factor import DemoCodeRefused, demo_code
from webapp.services.demo.seeding import (
    DEMO_USERS,
    seed_demo_sources,
    seed_reference_data,
    seed_users,
)
from webapp.services.ingestion import runs as ingestion
from webapp.services.ingestion import sources as source_registry
from webapp.services.ingestion.launcher import claim_run
from webapp.services.ingestion.watchdog import cancel_run, check_runs

DEMO_PATIENTS = 60


def run_seed(patients: int | None, echo=click.echo) -> None:
    """Seed reference data, demo users and patients; safe to run again."""
    seed_reference_data()
    users = seed_users(current_app.config.get("SEED_PASSWORD"))
    seed_demo_sources()
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
    echo(
        "AIPHAS accounts set up two-step sign-in at their first sign-in: scan the QR code with "
        "any authenticator app, or type the key shown. Without one, `flask demo-code EMAIL` "
        "prints the current code (local demo only, refused in production)."
    )


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


@click.command("ingest")
@click.argument("uris", nargs=-1)
@click.option("--source-system", default=None, help="Name the hospital system for every input.")
def ingest_command(uris: tuple[str, ...], source_system: str | None) -> None:
    """Run the pipeline on URIS (default $STORAGE_URI/incoming) and load the result."""
    started = time.monotonic()
    claimed = claim_run("cli", list(uris) or None)
    if not claimed.started:
        raise click.ClickException(holder_message(claimed.run))
    run = claimed.run
    click.echo(f"Run {run.id}")
    bar = None

    def on_stage(text: str) -> None:
        click.echo(f"  {text} ({time.monotonic() - started:.1f}s)")

    def on_progress(count: int) -> None:
        nonlocal bar
        if not sys.stderr.isatty():
            return  # a bar drawn into a log file is noise; the summary follows
        if bar is None:
            total = ingestion.load_progress_total(run.output_uri)
            bar = click.progressbar(length=total, label="  Records", file=sys.stderr)
            bar.__enter__()
        bar.update(count)

    try:
        summary = ingestion.execute_run(run.id, source_system, on_stage, on_progress)
    except Exception as exc:
        raise click.ClickException(f"run {run.id} failed: {exc}") from exc
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    print_summary(summary, time.monotonic() - started)


def holder_message(run) -> str:
    """Which run holds the single-run lock, and what to do about it."""
    since = run.started_at.strftime("%Y-%m-%d %H:%M:%S") if run.started_at else "?"
    return (
        f"run {run.id} ({run.trigger}, {run.status} since {since} UTC) is in progress and holds"
        f" the single-run lock; wait for it, or end it with `flask runs cancel {run.id}`"
    )


def print_summary(summary, seconds: float) -> None:
    """The closing lines of `flask ingest`."""
    counts = summary.manifest.get("counts", {})
    click.echo(f"Files read:        {counts.get('files', 0)}")
    click.echo(f"Rows read:         {counts.get('rows_read', 0)}")
    click.echo(f"Records loaded:    {summary.records_loaded}")
    click.echo(f"Rejected:          {summary.rejected}")
    for reason, count in sorted(summary.rejected_by_reason.items()):
        click.echo(f"  {reason:<22} {count}")
    click.echo(f"Patients created:  {summary.patients_created}")
    click.echo(f"Patients linked:   {summary.patients_linked}")
    click.echo(f"Duplicate visits:  {summary.duplicates}")
    click.echo(f"Reconciliation:    {summary.reconciliation.get('status')}")
    click.echo(f"Seconds:           {seconds:.1f}")


@click.command("demo-exports")
def demo_exports_command() -> None:
    """Write demo export files (legacy CSV, Synthea CSV, FHIR) under $STORAGE_URI/incoming."""
    patient_ids = list(db.session.scalars(select(Patient.id).order_by(Patient.id).limit(20)))
    if not patient_ids:
        raise click.ClickException("no patients yet: run `flask seed` first")
    files = write_demo_exports(current_app.config["STORAGE_URI"], patient_ids)
    click.echo(f"Wrote {len(files)} demo export files under {current_app.config['STORAGE_URI']}")


@click.group("sources")
def sources_group() -> None:
    """The source system registry: which hospital each system's patients belong to."""


@sources_group.command("add")
@click.argument("name")
@click.option("--hospital", "code", default=None, help="Hospital code (omit: unassigned).")
@click.option("--description", default="", help="What the system is.")
def sources_add(name: str, code: str | None, description: str) -> None:
    """Register NAME under a hospital, or move it there if it is registered already."""
    try:
        hospital = source_registry.hospital_by_code(code) if code else None
        source = source_registry.find_source(name)
        if source is None:
            source = source_registry.register_source(name, hospital, description, "cli")
            action = "source.register"
        else:
            source_registry.assign_source(source, hospital)
            action = "source.assign"
    except source_registry.SourceError as exc:
        raise click.ClickException(str(exc)) from exc
    record_event(
        action,
        actor_email="cli",
        details={"source_system": source.name, "hospital": code.upper() if code else None},
    )
    click.echo(f"{source.name}: {hospital.name if hospital else 'unassigned'}")


@sources_group.command("list")
def sources_list() -> None:
    """Every source system and its hospital, unassigned first."""
    for source in source_registry.list_sources():
        where = (
            f"{source.hospital.code}  {source.hospital.name}" if source.hospital else "UNASSIGNED"
        )
        click.echo(f"{source.name:<30} {where}")


@click.group("runs")
def runs_group() -> None:
    """Ingestion runs: end stuck ones, cancel one."""


@runs_group.command("check")
def runs_check_command() -> None:
    """Reconcile Dataflow runs with their jobs and fail runs silent for RUN_STALE_MINUTES."""
    changes = check_runs()
    for change in changes:
        click.echo(f"Run {change.run_id} {change.status}: {change.reason}")
    active = ingestion.active_run()
    click.echo(f"{len(changes)} run(s) ended; in progress: {active.id if active else 'none'}")


@runs_group.command("cancel")
@click.argument("run_id")
def runs_cancel_command(run_id: str) -> None:
    """Cancel RUN_ID (its Dataflow job too); exit 1 if it could not be cancelled."""
    cancelled, message = cancel_run(run_id, by="flask runs cancel")
    record_event("run.cancel", details={"run_id": run_id, "cancelled": cancelled, "via": "cli"})
    if not cancelled:
        raise click.ClickException(message)
    click.echo(message)


@click.command("demo-code")
@click.argument("email")
def demo_code_command(email: str) -> None:
    """Print the current two-step sign-in code of a local demo account (never in production)."""
    try:
        click.echo(demo_code(email))
    except DemoCodeRefused as refused:
        raise click.ClickException(str(refused)) from refused


def init_app(app):
    """Register the commands."""
    app.cli.add_command(sources_group)
    app.cli.add_command(runs_group)
    app.cli.add_command(seed_command)
    app.cli.add_command(ingest_command)
    app.cli.add_command(demo_exports_command)
    app.cli.add_command(demo_code_command)
