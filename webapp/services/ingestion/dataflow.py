"""Dataflow for a run: launching the classic template, reading and cancelling its job."""

import re

from flask import current_app

from webapp.common.clock import utcnow
from webapp.extensions import db
from webapp.models import PipelineRun

# Job states after which a job does nothing more without having written its output.
ENDED_WITHOUT_OUTPUT = (
    "JOB_STATE_FAILED",
    "JOB_STATE_CANCELLED",
    "JOB_STATE_DRAINED",
    "JOB_STATE_UPDATED",
)
DONE = "JOB_STATE_DONE"


def _client(kind: str = "TemplatesServiceClient"):
    from google.cloud import dataflow_v1beta3

    client_class = getattr(dataflow_v1beta3, kind)
    endpoint = current_app.config.get("DATAFLOW_ENDPOINT")
    if endpoint:  # a stand-in server: tests, or a regional/private endpoint
        from google.auth.credentials import AnonymousCredentials

        return client_class(
            transport="rest",
            client_options={"api_endpoint": endpoint},
            credentials=AnonymousCredentials(),
        )
    return client_class(transport="rest")


def _job_address(job_id: str) -> dict:
    config = current_app.config
    return {"project_id": config["GCP_PROJECT"], "location": config["GCP_REGION"], "job_id": job_id}


def get_job(job_id: str):
    """The Dataflow job's summary (current_state, current_state_time, ...)."""
    from google.cloud import dataflow_v1beta3

    request = dataflow_v1beta3.GetJobRequest(
        **_job_address(job_id), view=dataflow_v1beta3.JobView.JOB_VIEW_SUMMARY
    )
    return _client("JobsV1Beta3Client").get_job(request=request)


def cancel_job(job_id: str) -> None:
    """Ask Dataflow to cancel the job (requested_state JOB_STATE_CANCELLED)."""
    from google.cloud import dataflow_v1beta3

    request = dataflow_v1beta3.UpdateJobRequest(
        **_job_address(job_id),
        job=dataflow_v1beta3.Job(requested_state=dataflow_v1beta3.JobState.JOB_STATE_CANCELLED),
    )
    _client("JobsV1Beta3Client").update_job(request=request)


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
