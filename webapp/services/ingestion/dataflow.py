"""Launching the pipeline's Dataflow classic template for a run."""

import re

from flask import current_app

from webapp.common.clock import utcnow
from webapp.extensions import db
from webapp.models import PipelineRun


def _client():
    from google.cloud import dataflow_v1beta3

    endpoint = current_app.config.get("DATAFLOW_ENDPOINT")
    if endpoint:  # a stand-in server: tests, or a regional/private endpoint
        from google.auth.credentials import AnonymousCredentials

        return dataflow_v1beta3.TemplatesServiceClient(
            transport="rest",
            client_options={"api_endpoint": endpoint},
            credentials=AnonymousCredentials(),
        )
    return dataflow_v1beta3.TemplatesServiceClient(transport="rest")


def job_name(run_id: str) -> str:
    """Dataflow job names allow lower-case letters, digits and hyphens only."""
    return "aikey-" + re.sub(r"[^a-z0-9-]", "-", run_id.lower())[:50]


def launch(run: PipelineRun) -> str:
    """Launch the template over the run's inputs; record and return the Dataflow job id."""
    from google.cloud import dataflow_v1beta3

    config = current_app.config
    request = dataflow_v1beta3.LaunchTemplateRequest(
        project_id=config["GCP_PROJECT"],
        location=config["GCP_REGION"],
        gcs_path=config["DATAFLOW_TEMPLATE"],
        launch_parameters=dataflow_v1beta3.LaunchTemplateParameters(
            job_name=job_name(run.id),
            parameters={
                "input": ",".join(run.input_uris),
                "output": run.output_uri,
                "run_id": run.id,
            },
        ),
    )
    try:
        response = _client().launch_template(request=request)
    except Exception as exc:
        run.status = "failed"
        run.error = f"Dataflow launch failed: {type(exc).__name__}: {exc}"[:2000]
        run.finished_at = utcnow()
        db.session.commit()
        raise
    run.dataflow_job_id = response.job.id
    run.status = "running"  # the Pub/Sub notification of its _SUCCESS finishes it
    db.session.commit()
    return response.job.id
