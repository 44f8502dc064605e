"""A local stand-in of the Dataflow REST API: templates:launch, jobs get and jobs update."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.cloud.dataflow_v1beta3 import JobState

JOB_PATH = re.compile(r"^/v1b3/projects/([^/]+)/locations/([^/]+)/jobs/([^/?]+)")
LAUNCHED_JOB_ID = "2026-01-01_00_00_00-123"


class DataflowStandIn:
    """Answers as the Dataflow REST API does, recording each request; job states are settable."""

    def __init__(self):
        self.requests = []
        self.jobs: dict[str, dict] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _body(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"{}")

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                outer.requests.append(("POST", self.path, self._body()))
                self._answer(200, {"job": {"id": LAUNCHED_JOB_ID, "name": "x"}})

            def do_GET(self):
                outer.requests.append(("GET", self.path, {}))
                self._job_answer(lambda job: job)

            def do_PUT(self):
                body = self._body()
                # The client sends enums as numbers (enum-encoding=int); record their names.
                if isinstance(body.get("requestedState"), int):
                    body["requestedState"] = JobState(body["requestedState"]).name
                outer.requests.append(("PUT", self.path, body))

                def apply(job):
                    if body.get("requestedState") == "JOB_STATE_CANCELLED":
                        job["currentState"] = "JOB_STATE_CANCELLING"
                    return job

                self._job_answer(apply)

            def _job_answer(self, change):
                match = JOB_PATH.match(self.path)
                job = outer.jobs.get(match.group(3)) if match else None
                if job is None:
                    self._answer(404, {"error": {"code": 404, "message": "no such job"}})
                else:
                    self._answer(200, change(job))

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def set_job(self, job_id: str, state: str, since: str = "2026-01-01T00:00:00Z") -> None:
        """Make the job exist in `state` since `since` (RFC 3339)."""
        self.jobs[job_id] = {"id": job_id, "currentState": state, "currentStateTime": since}

    def calls(self, method: str) -> list[tuple[str, dict]]:
        """(path, body) of every request with this HTTP method."""
        return [(path, body) for verb, path, body in self.requests if verb == method]
