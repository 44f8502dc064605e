"""Server-side sessions on the embedded SQLite database `make run` uses, with no Redis at all."""

from datetime import timedelta

from flask_migrate import upgrade

from tests.support.auth import AuthActions
from tests.support.factories import make_patient, make_user
from webapp import MIGRATIONS_DIR, create_app
from webapp.extensions import db
from webapp.models import UserSession
from webapp.services.demo.seeding import seed_reference_data


def test_sessions_end_on_sqlite(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "sqlite-test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'aikey.db'}",
            "REDIS_URL": None,
            "CACHE_TYPE": "SimpleCache",
            "STORAGE_URI": str(tmp_path / "storage"),
        }
    )
    # Requests must not share the test's app context (and its `g`): each gets its own.
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        seed_reference_data()
        patient_id = make_patient().id
        user = make_user("DOCTOR")
        db.session.refresh(user)
        db.session.expunge_all()
    client = app.test_client()
    auth = AuthActions(client)
    auth.login(user)
    assert client.get(f"/patients/{patient_id}").status_code == 200
    saved = client.get_cookie("session").value
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("session", saved)
    assert thief.get(f"/patients/{patient_id}").status_code == 302
    auth.login(user)
    with app.app_context():
        row = db.session.query(UserSession).filter_by(ended_at=None).one()
        row.last_seen_at -= timedelta(hours=1)
        db.session.commit()
    assert client.get("/patients").status_code == 302
    with app.app_context():
        ended = db.session.query(UserSession).order_by(UserSession.id).all()
        assert [r.end_reason for r in ended] == ["signed_out", "idle"]
