"""The floors, served by the same gunicorn command as aiKey: a bare one-route Flask app, and the
least an audited page can cost on the same stack (SQLAlchemy, psycopg2, PostgreSQL, Jinja)."""

import os
from datetime import UTC, datetime
from functools import cache

from flask import Flask, abort, render_template_string
from sqlalchemy import create_engine, text

from webapp.config import engine_options, normalize_database_url

app = Flask(__name__)

FLOOR_TABLE = """
CREATE TABLE IF NOT EXISTS bench_floor_event (
    id bigserial PRIMARY KEY, occurred_at timestamptz NOT NULL, patient_id bigint, path text
)"""
READ = text("SELECT given_name, family_name, birth_date FROM patient WHERE id = :id")
# The audit INSERT as aiKey's read views send it: synchronous_commit off inside the INSERT.
WRITE = text(
    "INSERT INTO bench_floor_event (occurred_at, patient_id, path) "
    "SELECT :at, :patient_id, :path FROM (SELECT set_config('synchronous_commit', 'off', true)) s "
    "RETURNING id"
)
PAGE = "<!doctype html><title>{{ name }}</title><h1 id=floor>{{ name }}</h1><p>{{ born }}</p>"


@cache
def engine():
    """One pool per worker process (built after gunicorn forks), with aiKey's pool settings."""
    url = normalize_database_url(os.environ["DATABASE_URL"])
    return create_engine(url, **engine_options(url))


@app.route("/")
def hello():
    """The cheapest page Flask can serve."""
    return "ok"


@app.route("/read/<int:patient_id>")
def read_only(patient_id: int):
    """One indexed read and one small template, no audit row: a page's cheapest database use."""
    with engine().connect() as connection:
        row = connection.execute(READ, {"id": patient_id}).first()
    if row is None:
        abort(404)
    name = f"{row.given_name} {row.family_name}"
    return render_template_string(PAGE, name=name, born=row.birth_date)


@app.route("/audited/<int:patient_id>")
def audited(patient_id: int):
    """One indexed read, one audit INSERT and its COMMIT, one small template: what every
    audited page pays before any of its own work."""
    path = f"/audited/{patient_id}"
    with engine().begin() as connection:
        row = connection.execute(READ, {"id": patient_id}).first()
        if row is None:
            abort(404)
        at = datetime.now(UTC)
        connection.execute(WRITE, {"at": at, "patient_id": patient_id, "path": path})
    name = f"{row.given_name} {row.family_name}"
    return render_template_string(PAGE, name=name, born=row.birth_date)
