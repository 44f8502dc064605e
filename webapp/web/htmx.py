"""HTMX-aware pages: the whole page, or one block of the same template for a swap."""

from typing import Any

from flask import Response, make_response, render_template, request
from jinja2_fragments.flask import render_block


def is_htmx_swap() -> bool:
    """True for an HTMX request that swaps part of the page (not a history restore)."""
    # A history restore after a cache miss replaces the whole document, so it needs the page.
    return "HX-Request" in request.headers and "HX-History-Restore-Request" not in request.headers


def render_page(template: str, block: str, push_url: str | None = None, **context: Any) -> Response:
    """The full page, or only `block` of the same template for an HTMX swap.

    `push_url`, when given, is the address an HTMX swap puts in the address bar (e.g. the
    query with a clamped page number).
    """
    if is_htmx_swap():
        response = make_response(render_block(template, block, **context))
        if push_url is not None:
            response.headers["HX-Push-Url"] = push_url
    else:
        response = make_response(render_template(template, **context))
    # The same URL answers two shapes; caches must tell them apart.
    response.vary.add("HX-Request")
    return response
