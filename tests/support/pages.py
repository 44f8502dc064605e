"""Reading what the test client gets back."""

import re

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token embedded in a rendered page."""
    match = CSRF_FIELD.search(html) or CSRF_HEADER.search(html)
    assert match, "page carries no CSRF token"
    return match.group(1)


def without_csrf_tokens(html: str) -> str:
    """The page with its CSRF token values taken out: random text that may hold any short
    string (an identifier such as "N1"), so a check that something is absent must not see it."""
    for token in set(CSRF_FIELD.findall(html) + CSRF_HEADER.findall(html)):
        html = html.replace(token, "")
    return html


def search_patients(client, headers=None, environ=None, **fields):
    """POST the patient search form as the page does (HTMX sends the token as X-CSRFToken)."""
    token = csrf_token(client.get("/patients", environ_base=environ or {}).get_data(as_text=True))
    return client.post(
        "/patients",
        data=fields,
        headers={"X-CSRFToken": token, **(headers or {})},
        environ_base=environ or {},
    )
