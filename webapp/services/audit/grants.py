"""Least privilege on PostgreSQL: what the app's runtime role may do, and nothing more.

Migrations run as the owner of the tables; the app connects as a separate runtime role. The
runtime role may read and write the working tables, but may only INSERT and SELECT the audit
tables: with the triggers of migrations 0002/0007 (which bind even the owner), no role but a
superuser that switches triggers off can change the trail, and `flask audit verify` catches that.
"""

from sqlalchemy import text

from webapp.database import is_postgresql
from webapp.extensions import db

APPEND_ONLY = ("audit_event", "audit_seal", "audit_check")
READ_ONLY = ("alembic_version",)


class GrantError(ValueError):
    """The runtime role cannot be granted (unknown role, the owner itself, not PostgreSQL)."""


def _quote(name: str) -> str:
    return db.engine.dialect.identifier_preparer.quote(name)


def _tables() -> list[str]:
    rows = db.session.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
    )
    return [row[0] for row in rows]


def _sequences(tables: list[str]) -> list[str]:
    names = []
    for table in tables:
        for column in ("id", "seq"):
            found = db.session.scalar(
                text(
                    "SELECT pg_get_serial_sequence(quote_ident(:table), column_name) "
                    "FROM information_schema.columns WHERE table_schema = current_schema() "
                    "AND table_name = :table AND column_name = :column"
                ),
                {"table": table, "column": column},
            )
            if found:
                names.append(found)
    return names


def grant_statements(role: str) -> list[str]:
    """The GRANT/REVOKE statements that give `role` exactly the runtime privileges."""
    tables = _tables()
    quoted = _quote(role)
    working = [t for t in tables if t not in APPEND_ONLY + READ_ONLY]
    audit = [t for t in tables if t in APPEND_ONLY]
    schema = _quote(db.session.scalar(text("SELECT current_schema()")))
    database = _quote(db.session.scalar(text("SELECT current_database()")))
    statements = [
        f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {quoted}",
        f"GRANT USAGE ON SCHEMA {schema} TO {quoted}",
        # Start from nothing, so running it again (or after a role had more) ends the same.
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {quoted}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {quoted}",
    ]
    statements += [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {_quote(t)} TO {quoted}" for t in working
    ]
    statements += [f"GRANT SELECT, INSERT ON {_quote(t)} TO {quoted}" for t in audit]
    statements += [f"GRANT SELECT ON {_quote(t)} TO {quoted}" for t in tables if t in READ_ONLY]
    # nextval needs USAGE; the bulk seeder's setval (database.reserve_ids) needs UPDATE, which
    # the audit tables' sequences do not get.
    for sequence in _sequences(working):
        statements.append(f"GRANT USAGE, SELECT, UPDATE ON SEQUENCE {sequence} TO {quoted}")
    for sequence in _sequences(audit):
        statements.append(f"GRANT USAGE, SELECT ON SEQUENCE {sequence} TO {quoted}")
    return statements


def grant_runtime_role(role: str) -> list[str]:
    """Give `role` the runtime privileges (idempotent); returns the statements run."""
    if not is_postgresql():
        raise GrantError("db-grant needs PostgreSQL: SQLite has no roles")
    if not db.session.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}):
        raise GrantError(f"role {role!r} does not exist: CREATE ROLE it first")
    if role == db.session.scalar(text("SELECT current_user")):
        raise GrantError("the runtime role must not be the role that owns the tables")
    statements = grant_statements(role)
    for statement in statements:
        db.session.execute(text(statement))
    db.session.commit()
    return statements
