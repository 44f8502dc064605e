"""The AIPHAS console: accounts, audit log and ingestion runs."""

from flask import Blueprint

from webapp.services.audit.trail import format_moment

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.add_app_template_filter(format_moment, "utc")

from webapp.admin import (  # noqa: E402,F401  (registers routes)
    audit,
    emergency,
    run_sources,
    runs,
    security,
    sources,
    users,
)
