"""Streamed CSV downloads."""

from collections.abc import Callable, Iterable
from typing import Any

from flask import Response, current_app

from webapp.common.spreadsheet import csv_chunks


def csv_response(
    filename: str, header: Iterable[str], rows: Callable[[], Iterable[Iterable[Any]]]
) -> Response:
    """A CSV download streamed in chunks; `rows` is called once the body is read."""
    app = current_app._get_current_object()

    def body():
        # An app context of its own, opened only when the body is read: a response that is
        # never read (a dropped client) then holds no database session, and one that is read
        # to the end releases it.
        with app.app_context():
            yield from csv_chunks(header, rows())

    response = Response(body(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
