"""How the suite is put together: helpers only in tests/support, and which tests need servers.

tests/pipeline runs with PostgreSQL and Redis down and without importing the web app; any other
test stops the session with exit code 3 and a message naming the server that is down.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
UNREACHABLE = {
    "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x",
    "REDIS_URL": "redis://127.0.0.1:1/0",
}
# Runs pytest in-process, then fails (99) if the run imported the web app.
PYTEST_WITHOUT_WEBAPP = (
    "import sys, pytest\n"
    "code = pytest.main(sys.argv[1:])\n"
    "sys.exit(99 if code == 0 and 'webapp' in sys.modules else code)\n"
)


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_tests_import_only_support_modules_never_a_test_module_or_conftest():
    wrong = []
    for path in TESTS.rglob("*.py"):
        for module in _imported_modules(path):
            other_test_module = module.startswith("tests.") and not module.startswith(
                "tests.support"
            )
            if other_test_module or module.split(".")[-1] == "conftest":
                wrong.append(f"{path.relative_to(ROOT)} imports {module}")
    assert wrong == []


def test_helper_modules_live_in_tests_support_only():
    allowed = {"conftest.py", "__init__.py"}
    helpers = [
        str(path.relative_to(ROOT))
        for path in TESTS.rglob("*.py")
        if "support" not in path.relative_to(TESTS).parts
        and path.name not in allowed
        and not path.name.startswith("test_")
    ]
    assert helpers == []


def _pytest_with_servers_down(*args: str, script: str | None = None):
    command = [sys.executable, "-c", script] if script else [sys.executable, "-m", "pytest"]
    return subprocess.run(
        [*command, *args, "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env={**os.environ, **UNREACHABLE},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_pipeline_tests_pass_with_the_servers_down_and_without_the_web_app():
    result = _pytest_with_servers_down(
        "tests/pipeline/test_contract.py", script=PYTEST_WITHOUT_WEBAPP
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_other_tests_stop_the_session_loudly_when_the_servers_are_down():
    result = _pytest_with_servers_down("tests/test_auth.py")
    assert result.returncode == 3, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "PostgreSQL is not reachable at postgresql://nobody@127.0.0.1:1/x" in output
    assert "Redis is not reachable at redis://127.0.0.1:1/0" in output
    assert "passed" not in output and "skipped" not in output
