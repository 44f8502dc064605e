"""The AIPHAS console: accounts, audit log and ingestion runs."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from webapp.admin import runs, users  # noqa: E402,F401  (registers routes)
