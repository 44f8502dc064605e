"""The runs console per source system: each hospital system's recent runs at a glance."""

from flask import render_template

from webapp.admin import bp
from webapp.auth.decorators import permission_required
from webapp.models.permissions import PIPELINE_RUN
from webapp.services.ingestion.source_health import ATTENTION_RATE, RECENT_RUNS, source_overview
from webapp.services.ingestion.source_trend import loaded_trend, reject_trend


@bp.route("/runs/sources")
@permission_required(PIPELINE_RUN)
def run_sources():
    """Rows loaded, reject rate and top reject reasons per source system over the last runs."""
    sources = [
        {"source": source, "loaded": loaded_trend(source.runs), "rate": reject_trend(source.runs)}
        for source in source_overview()
    ]
    return render_template(
        "admin/run_sources.html",
        sources=sources,
        recent_runs=RECENT_RUNS,
        attention_rate=ATTENTION_RATE,
    )
