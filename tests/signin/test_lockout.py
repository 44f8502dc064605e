"""The lockout holds under a burst of parallel guesses, and unknown emails look the same."""

import re
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import select

from tests.support.factories import PASSWORD, make_user
from tests.support.pages import csrf_token
from webapp.models import AuditEvent, User

BURST = 40


def _sign_in(server, email: str, password: str) -> requests.Response:
    http = requests.Session()
    token = csrf_token(http.get(f"{server.url}/login").text)
    return http.post(
        f"{server.url}/login",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
    )


def _wrong_password_checks(db, user) -> int:
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "login.failure", AuditEvent.actor_user_id == user.id
        )
    )
    return sum(1 for event in events if event.details.get("reason") == "wrong password")


def test_forty_parallel_guesses_make_at_most_five_password_checks(server, db):
    user = make_user("DOCTOR")
    email = user.email
    with ThreadPoolExecutor(max_workers=BURST) as pool:
        answers = list(
            pool.map(lambda n: _sign_in(server, email, f"guess number {n}"), range(BURST))
        )
    assert all(answer.status_code == 200 for answer in answers)
    assert _wrong_password_checks(db, user) <= 5
    assert sum("locked" in answer.text for answer in answers) >= BURST - 5
    # The right password is refused while the lock holds.
    right = _sign_in(server, email, PASSWORD)
    assert right.status_code == 200 and "locked" in right.text
    assert db.session.get(User, user.id, populate_existing=True).is_locked()


def test_the_right_password_inside_a_burst_does_not_slip_through(server, db):
    user = make_user("DOCTOR")
    email = user.email
    passwords = [f"guess number {n}" for n in range(BURST - 1)] + [PASSWORD]
    with ThreadPoolExecutor(max_workers=BURST) as pool:
        answers = list(pool.map(lambda p: _sign_in(server, email, p), passwords))
    signed_in = [answer for answer in answers if answer.status_code == 302]
    checks = _wrong_password_checks(db, user)
    # Either the right password won one of the five checks, or it was refused as locked.
    assert checks + len(signed_in) <= 5


def _answer(auth, email: str, password: str) -> tuple[int, str]:
    response = auth.post("/login", {"email": email, "password": password})
    text = response.get_data(as_text=True)
    alert = re.search(r'<p class="alert" role="alert">([^<]*)</p>', text)
    return response.status_code, alert.group(1) if alert else ""


def test_six_failures_answer_the_same_for_real_and_unknown_emails(client, auth, db):
    user = make_user("DOCTOR")
    real = [_answer(auth, user.email, "wrong password") for _ in range(6)]
    unknown = [_answer(auth, "nobody@example.test", "wrong password") for _ in range(6)]
    assert real == unknown
    assert real[0] == (200, "Invalid email or password.")
    assert "locked" in real[4][1] and "locked" in real[5][1]
