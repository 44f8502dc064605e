"""Flask CLI commands of the audit trail: flask audit seal / verify, flask db-grant ROLE."""

import click
from flask.cli import AppGroup

from webapp.services.audit.grants import GrantError, grant_runtime_role
from webapp.services.audit.sealing import seal, sealed_through
from webapp.services.audit.verify import verify_and_record

audit_cli = AppGroup("audit", help="Seal and verify the tamper-evident audit trail.")


@audit_cli.command("seal")
def seal_command() -> None:
    """Chain every audit row not yet sealed (safe to run at any time, and again)."""
    count = seal()
    click.echo(f"Sealed {count} audit rows; sealed up to id {sealed_through() or 0}.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Recompute the whole chain: exit 0 when intact, 1 naming the first bad row otherwise."""
    result = verify_and_record()
    if not result.intact:
        click.echo(f"BROKEN: first bad row id {result.first_bad_id}: {result.problem}", err=True)
        click.echo(f"{result.rows_checked} rows checked before it.", err=True)
        raise SystemExit(1)
    through = result.sealed_through_id or 0
    click.echo(f"Intact: {result.rows_checked} rows checked, sealed up to id {through}.")


@click.command("db-grant")
@click.argument("role")
def db_grant_command(role: str) -> None:
    """Give the app's runtime ROLE exactly its privileges (audit tables: INSERT, SELECT only)."""
    try:
        statements = grant_runtime_role(role)
    except GrantError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Granted {role}: {len(statements)} statements.")


def init_app(app) -> None:
    """Register the commands."""
    app.cli.add_command(audit_cli)
    app.cli.add_command(db_grant_command)
