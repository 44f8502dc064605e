"""What the benchmarks share: an app served by gunicorn exactly as the Dockerfile serves aiKey."""

import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def gunicorn_command(port: int, app: str = "wsgi:app") -> list[str]:
    """The Dockerfile's CMD serving `app` on a loopback port (gunicorn.conf.py as in the image)."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = dockerfile.split("CMD exec ", 1)[1].replace("\\\n", " ").split("\n")[0]
    args = [app if arg == "wsgi:app" else arg for arg in shlex.split(cmd)[1:]]
    return [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}", *args]


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(server: subprocess.Popen) -> None:
    """Stop a gunicorn the benchmark started, and its workers, before anything else goes.

    A quick shutdown (SIGQUIT): open WebSockets would hold a graceful stop for its whole
    timeout, and a killed master leaves its workers to notice later, still connected to a
    database the benchmark may be about to drop.
    """
    server.send_signal(signal.SIGQUIT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
