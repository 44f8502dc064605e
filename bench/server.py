"""What the benchmarks share: the app served by gunicorn exactly as the Dockerfile runs it."""

import shlex
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def gunicorn_command(port: int, app: str = "wsgi:app") -> list[str]:
    """The Dockerfile's CMD serving `app` on a loopback port, with the access log off."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = dockerfile.split("CMD exec ", 1)[1].replace("\\\n", " ").split("\n")[0]
    cmd = cmd.replace('":${PORT}"', f"127.0.0.1:{port}").replace("--access-logfile -", "")
    args = [app if arg == "wsgi:app" else arg for arg in shlex.split(cmd)[1:]]
    return [str(Path(sys.executable).parent / "gunicorn"), *args]


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
