"""The app as its runtime role: it writes audit rows but cannot change or empty them."""

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from tests.support import services
from tests.support.auth import AuthActions
from tests.support.factories import make_user
from tests.support.settings import app_settings
from webapp import create_app
from webapp.extensions import db as database
from webapp.models import AuditEvent, AuditSeal
from webapp.services.audit.events import record_event
from webapp.services.audit.sealing import seal

CHANGES = (
    "UPDATE audit_event SET action = 'quiet'",
    "DELETE FROM audit_event",
    "TRUNCATE audit_event",
    "UPDATE audit_seal SET link = 'x'",
    "DELETE FROM audit_seal",
    "TRUNCATE audit_check",
)


@pytest.fixture
def runtime_role(database_url, runner):
    role = services.create_login_role()
    result = runner.invoke(args=["db-grant", role])
    assert result.exit_code == 0, result.output
    yield role
    services.drop_role(role, make_url(database_url).database)


@pytest.fixture
def runtime_app(database_url, runtime_role):
    url = make_url(database_url).set(username=runtime_role)
    app = create_app(app_settings(url.render_as_string(hide_password=False)))
    yield app
    with app.app_context():
        database.engine.dispose()


def privileges(role: str, table: str) -> set[str]:
    names = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
    query = text("SELECT has_table_privilege(:role, :table, :privilege)")
    return {
        name
        for name in names
        if database.session.scalar(query, {"role": role, "table": table, "privilege": name})
    }


def test_db_grant_gives_exactly_the_runtime_privileges(runner, runtime_role):
    assert privileges(runtime_role, "audit_event") == {"SELECT", "INSERT"}
    assert privileges(runtime_role, "audit_seal") == {"SELECT", "INSERT"}
    assert privileges(runtime_role, "app_user") == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert privileges(runtime_role, "alembic_version") == {"SELECT"}
    database.session.execute(text(f'GRANT TRUNCATE ON audit_event TO "{runtime_role}"'))
    database.session.commit()
    assert runner.invoke(args=["db-grant", runtime_role]).exit_code == 0  # again: same result
    assert privileges(runtime_role, "audit_event") == {"SELECT", "INSERT"}


def test_db_grant_refuses_an_unknown_role_and_the_owner(runner):
    result = runner.invoke(args=["db-grant", "no_such_role_here"])
    assert result.exit_code != 0 and "does not exist" in result.output
    owner = database.session.scalar(text("SELECT current_user"))
    result = runner.invoke(args=["db-grant", owner])
    assert result.exit_code != 0 and "must not be the role that owns" in result.output


def test_the_app_writes_audit_rows_as_the_runtime_role(runtime_app, runtime_role, db):
    user = make_user("AIPHAS")
    client = runtime_app.test_client()
    AuthActions(client).login(user)
    assert client.get("/admin/audit").status_code == 200
    with runtime_app.app_context():
        assert database.session.scalar(text("SELECT current_user")) == runtime_role
        record_event("test.runtime")
        assert seal() >= 3  # sign-in, audit view, this row: the runtime role seals too
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"login.success", "audit.viewed", "test.runtime"} <= actions
    assert db.session.scalar(select(func.count()).select_from(AuditSeal)) >= 3


@pytest.mark.parametrize("statement", CHANGES)
def test_the_runtime_role_cannot_change_audit_rows(runtime_app, db, statement):
    record_event("test.keep")
    with runtime_app.app_context():
        seal()
        with pytest.raises(ProgrammingError, match="permission denied"):
            database.session.execute(text(statement))
        database.session.rollback()
    db.session.expire_all()
    assert db.session.scalar(select(AuditEvent.action)) == "test.keep"
