"""Responses shared by the dashboard's views: HTMX-aware pages and streamed CSV files."""

from collections.abc import Callable, Iterable
from typing import Any

from flask import Response, current_app, make_response, render_template, request
from jinja2_fragments.flask import render_block

from webapp.common.spreadsheet import csv_lines


def is_htmx_swap() -> bool:
    """True for an HTMX request that swaps part of the page (not a history restore)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get(
        "HX-History-Restore-Request"
    )


def render_page(template: str, block: str, **context: Any) -> Response:
    """The full page, or only `block` of the same template for an HTMX swap."""
    if is_htmx_swap():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body)
    # The same URL answers two shapes; caches must tell them apart.
    response.vary.add("HX-Request")
    return response


def csv_response(
    filename: str, header: Iterable[str], rows: Callable[[], Iterable[Iterable[Any]]]
) -> Response:
    """A CSV download streamed row by row; `rows` is called once the body is read."""
    app = current_app._get_current_object()

    def body():
        # An app context of its own, opened only when the body is read: a response that is
        # never read (a dropped client) then holds no database session.
        with app.app_context():
            yield from csv_lines(header, rows())

    response = Response(body(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
