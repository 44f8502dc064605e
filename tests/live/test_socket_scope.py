"""Per-socket scope: a doctor of hospital A receives no push about a patient only B knows."""

import time
from datetime import date

from sqlalchemy import select

from tests.support.factories import make_doctor_at, make_patient, make_record
from tests.support.sockets import connect, receive_until, wait_listening
from webapp.models import BreakGlassGrant, PatientCost
from webapp.services.costs.recompute import recompute_costs
from webapp.services.patients.break_glass import grant_access


def commit_cost(db, patient, day: date, cost: str) -> None:
    make_record(patient, day, cost)
    recompute_costs([patient.id])
    db.session.commit()


def drain(ws, seconds: float) -> list[str]:
    """Every message that arrives within `seconds`."""
    messages, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        message = ws.receive(timeout=max(0.01, deadline - time.monotonic()))
        if message is not None:
            messages.append(message)
    return messages


def test_each_socket_gets_only_its_hospitals_patients(server, live_app, doctor, db):
    mine = make_patient("Mina", "Local")  # the factory doctor's hospital (St. Aiken)
    theirs = make_patient("Theo", "Faraway", source=("bayview-emr", "B1"), hospital="BMC")
    orphan = make_patient("Otto", "Nobody", source=("nowhere", "N1"), hospital=None)
    bayview_doctor = make_doctor_at("BMC")
    ws_a = connect(server, doctor)
    ws_b = connect(server, bayview_doctor)
    try:
        wait_listening(live_app)
        commit_cost(db, theirs, date(2025, 7, 3), "31.00")
        commit_cost(db, orphan, date(2025, 7, 3), "32.00")
        commit_cost(db, mine, date(2025, 7, 3), "33.00")
        # Each socket hears its own patient; pushes are in commit order, so by the time the
        # last one arrives any earlier push for the other patients would have too.
        got_a = receive_until(ws_a, lambda m: f"cost-{mine.id}-2025-07" in m)
        assert not any(f"cost-{theirs.id}-" in m or "Theo" in m for m in got_a)
        assert not any(f"cost-{orphan.id}-" in m for m in got_a)
        got_b = receive_until(ws_b, lambda m: f"cost-{theirs.id}-2025-07" in m)
        got_b += drain(ws_b, 1.0)
        assert not any(f"cost-{mine.id}-" in m or f"cost-{orphan.id}-" in m for m in got_b)
    finally:
        ws_a.close()
        ws_b.close()


def test_a_grant_opens_the_patients_pushes_and_its_expiry_closes_them(server, live_app, doctor, db):
    theirs = make_patient("Theo", "Faraway", source=("bayview-emr", "B1"), hospital="BMC")
    mine = make_patient("Mina", "Local")
    ws = connect(server, doctor)  # the /costs page's socket
    try:
        wait_listening(live_app)
        grant = grant_access(doctor.id, theirs.id, "emergency", "Unconscious in our ER")
        time.sleep(0.6)  # the socket refreshes its scope every LIVE_RECHECK_SECONDS (0.2 s)
        commit_cost(db, theirs, date(2025, 8, 1), "41.00")
        got = receive_until(ws, lambda m: f'id="cost-{theirs.id}-2025-08"' in m)
        assert any(f'id="cost-{theirs.id}-2025-08"' in m for m in got)

        stored = db.session.get(BreakGlassGrant, grant.id)
        stored.expires_at = stored.granted_at  # expired
        db.session.commit()
        time.sleep(0.6)
        commit_cost(db, theirs, date(2025, 9, 1), "42.00")
        commit_cost(db, mine, date(2025, 9, 1), "43.00")
        after = receive_until(ws, lambda m: f"cost-{mine.id}-2025-09" in m)
        assert not any(f"cost-{theirs.id}-2025-09" in m for m in after)
        assert db.session.scalars(select(PatientCost).where(PatientCost.month == "2025-09")).all()
    finally:
        ws.close()
