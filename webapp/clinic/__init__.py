"""The doctor dashboard: patients, charts and costs."""

from flask import Blueprint

bp = Blueprint("clinic", __name__)

from webapp.clinic import access, costs, patients  # noqa: E402,F401  (registers routes)
