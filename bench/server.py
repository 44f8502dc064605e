"""What the benchmarks share: an app served by gunicorn exactly as the Dockerfile serves aiKey."""

import shlex
import socket
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
