"""The runs console: list, one run's rejects, Run now, and who may see it."""

from sqlalchemy import select

from tests.support.factories import make_user
from webapp.common.clock import utcnow
from webapp.models import IngestReject, PipelineRun
from webapp.services.ingestion import launcher as run_launcher


def add_run(db, run_id, status="succeeded", **fields):
    run = PipelineRun(
        id=run_id, trigger=fields.pop("trigger", "scheduler"), status=status, **fields
    )
    run.input_uris = []
    db.session.add(run)
    db.session.commit()
    return run


def test_runs_newest_first_with_their_figures(client, auth, db):
    from datetime import timedelta

    now = utcnow()
    add_run(db, "old-run", started_at=now - timedelta(hours=2), rows_read=5)
    add_run(
        db,
        "new-run",
        started_at=now,
        rows_read=12,
        rows_loaded=10,
        rows_rejected=2,
        rejects_by_reason={"bad_cost": 2},
        reconciliation={"status": "ok"},
        trigger="pubsub",
    )
    auth.login("AIPHAS")
    html = client.get("/admin/runs").get_data(as_text=True)
    assert html.index("new-run") < html.index("old-run")
    assert "bad_cost: 2" in html and "pubsub" in html and 'hx-trigger="every 2s"' not in html


def test_table_polls_while_a_run_is_going(client, auth, db):
    add_run(db, "busy", status="running")
    auth.login("AIPHAS")
    assert 'hx-trigger="every 2s"' in client.get("/admin/runs").get_data(as_text=True)
    fragment = client.get("/admin/runs", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.startswith('<div id="runs-table"') and "<html" not in fragment
    db.session.get(PipelineRun, "busy").status = "succeeded"
    db.session.commit()
    fragment = client.get("/admin/runs", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-trigger="every 2s"' not in fragment


def test_run_page_lists_rejects_paginated(client, auth, db):
    add_run(db, "r1")
    db.session.add_all(
        IngestReject(
            run_id="r1",
            stage="pipeline",
            file="a.csv",
            position=i,
            excerpt=f"row {i}",
            reason="bad_cost",
        )
        for i in range(60)
    )
    db.session.commit()
    auth.login("AIPHAS")
    first = client.get("/admin/runs/r1").get_data(as_text=True)
    assert first.count('id="reject-') == 50 and "60 rejects" in first
    second = client.get("/admin/runs/r1?page=2").get_data(as_text=True)
    assert second.count('id="reject-') == 10 and ">59</td>" in second and "row 59" not in second
    assert client.get("/admin/runs/nope").status_code == 404


def test_run_now_starts_a_run_and_refuses_a_second(client, auth, db, monkeypatch):
    started = []
    monkeypatch.setattr(run_launcher, "dispatch", started.append)
    user = auth.login("AIPHAS")
    response = auth.post("/admin/runs", {}, follow=True)
    assert response.status_code == 200 and "started" in response.get_data(as_text=True)
    run = db.session.scalars(select(PipelineRun)).one()
    assert (run.trigger, run.started_by_id, run.status) == ("manual", user.id, "queued")
    assert [r.id for r in started] == [run.id]
    again = auth.post("/admin/runs", {}, follow=True).get_data(as_text=True)
    assert "still in progress" in again
    assert len(db.session.scalars(select(PipelineRun)).all()) == 1


def test_run_now_needs_csrf(client, auth, db):
    auth.login("AIPHAS")
    assert client.post("/admin/runs").status_code == 400


def test_doctors_cannot_see_runs(client, auth, db):
    auth.login("DOCTOR")
    assert client.get("/admin/runs").status_code == 403
    assert client.post("/admin/runs").status_code in (400, 403)
    assert db.session.scalars(select(PipelineRun)).all() == []


def test_runs_link_only_for_pipeline_permission(client, auth, db):
    auth.login(make_user("AIPHAS"))
    assert 'href="/admin/runs"' in client.get("/admin/users").get_data(as_text=True)
