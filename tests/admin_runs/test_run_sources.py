"""The runs console per source system: rows loaded, reject rate and top reasons at a glance."""

import re
from datetime import timedelta

from tests.support.factories import make_patient
from tests.support.run_outputs import write_output
from webapp.common.clock import utcnow
from webapp.models import IngestReject, PipelineRun
from webapp.services.ingestion import runs as ingestion
from webapp.services.ingestion.source_health import SourceRun, source_overview
from webapp.services.ingestion.source_trend import loaded_trend, reject_trend


def add_run(db, run_id, hours_ago, loaded, rejects=(), status="succeeded"):
    """A finished run that loaded {source: records} and refused (source, reason) rows."""
    run = PipelineRun(
        id=run_id,
        trigger="scheduler",
        status=status,
        started_at=utcnow() - timedelta(hours=hours_ago),
        reconciliation={"status": "ok", "records_by_source": loaded},
    )
    run.input_uris = []
    db.session.add(run)
    db.session.flush()
    db.session.add_all(
        IngestReject(
            run_id=run_id,
            stage="pipeline",
            source_system=source,
            reason=reason,
            excerpt="Jane Roe,Chest pain,HIV+",  # clinical values the console must not show
        )
        for source, reason in rejects
    )
    db.session.commit()
    return run


def bad_export_history(db):
    """hospital-a is steady; hospital-b's latest export is mostly refused."""
    for n in range(3):
        add_run(
            db,
            f"run-{n}",
            hours_ago=10 - n,
            loaded={"hospital-a": 100, "hospital-b": 50},
            rejects=[("hospital-a", "bad_date")] + [("hospital-b", "bad_cost")] * n,
        )
    add_run(
        db,
        "run-3",
        hours_ago=1,
        loaded={"hospital-a": 99, "hospital-b": 10},
        rejects=[("hospital-a", "bad_date")]
        + [("hospital-b", "bad_cost")] * 30
        + [("hospital-b", "missing_patient_id")] * 10,
    )


def test_the_loader_records_rows_loaded_per_source_system(db, tmp_path):
    ana = make_patient()
    output = str(tmp_path / "output" / "r-src")
    write_output(output, "r-src", [(ana.id, "2025-01-02", "10.00"), (999_999, "2025-01-03", "1")])
    run = PipelineRun(id="r-src", trigger="cli", status="loading", output_uri=output)
    run.input_uris = []
    db.session.add(run)
    db.session.commit()
    ingestion.load_run(run)
    run = db.session.get(PipelineRun, "r-src")
    assert run.reconciliation["records_by_source"] == {"hospital-a": 1}
    (overview,) = [s for s in source_overview() if s.name == "hospital-a"]
    latest = overview.latest
    assert (latest.run_id, latest.loaded, latest.rejected) == ("r-src", 1, 1)
    assert latest.reject_rate == 0.5
    assert overview.top_reasons == [("unknown_patient", 1)]


def test_a_bad_export_stands_out_first(db):
    bad_export_history(db)
    make_patient(source=("quiet-clinic", "Q1"))  # known from identifiers, silent lately
    sources = {s.name: s for s in source_overview()}
    assert next(iter(sources)) == "hospital-b"  # flagged sources come first
    b, a, quiet = sources["hospital-b"], sources["hospital-a"], sources["quiet-clinic"]
    assert [r.run_id for r in b.runs] == ["run-0", "run-1", "run-2", "run-3"]
    assert b.latest.reject_rate == 0.8 and b.needs_attention
    assert b.top_reasons == [("bad_cost", 33), ("missing_patient_id", 10)]
    assert not a.needs_attention and a.latest.reject_rate == 0.01
    assert quiet.runs == [] and quiet.latest is None and not quiet.needs_attention


def test_runs_that_did_not_record_loaded_rows_show_an_unknown_rate(db):
    add_run(db, "old", hours_ago=5, loaded=None, rejects=[("hospital-a", "bad_cost")])
    add_run(db, "busy", hours_ago=0, loaded={"hospital-a": 5}, status="running")
    (a,) = [s for s in source_overview() if s.name == "hospital-a"]
    assert [(r.run_id, r.loaded, r.reject_rate) for r in a.runs] == [("old", None, None)]


def test_trend_bars_are_scaled_and_the_latest_run_is_on_the_right():
    now = utcnow()
    runs = [
        SourceRun("r1", now, "succeeded", 100, 0),
        SourceRun("r2", now, "succeeded", 50, 50),
    ]
    loaded = loaded_trend(runs)["bars"]
    assert loaded[0].height == 2 * loaded[1].height
    assert loaded[0].x < loaded[1].x and loaded[1].x > 150  # right-aligned in 12 slots
    rate = reject_trend(runs)
    assert rate["bars"][0].height == 0 and rate["bars"][1].height == (rate["height"] - 4) / 2
    assert rate["bars"][1].alert and rate["bars"][1].label == "r2: 50 rejected (50.0%)"


def test_page_shows_the_trends_and_reasons_but_no_clinical_values(client, auth, db):
    bad_export_history(db)
    auth.login("AIPHAS")
    runs_page = client.get("/admin/runs").get_data(as_text=True)
    assert 'href="/admin/runs/sources"' in runs_page
    response = client.get("/admin/runs/sources")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    rows = re.findall(r'<tr id="source-\d+" data-source="([^"]+)"( class="attention")?', html)
    assert rows == [("hospital-b", ' class="attention"'), ("hospital-a", "")]
    assert html.count('<svg class="trend trend-loaded"') == 2
    assert html.count('<svg class="trend trend-rate"') == 2
    assert html.count("alert-bar") == 1  # only hospital-b's latest run
    assert "run-3: 40 rejected (80.0%)" in html and "<code>bad_cost</code>: 33" in html
    assert "Chest pain" not in html and "Jane Roe" not in html and "HIV" not in html
    assert "Content-Security-Policy" in response.headers
    assert "<script>" not in html and " style=" not in html


def test_page_with_no_runs_says_so(client, auth, db):
    auth.login("AIPHAS")
    html = client.get("/admin/runs/sources").get_data(as_text=True)
    assert "No source system has sent anything yet." in html
