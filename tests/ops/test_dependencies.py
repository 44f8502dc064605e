"""Dependencies are declared where they are imported and locked with hashes (make lock)."""

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {"webapp", "pipeline", "tests", "bench", "wsgi", "seed_data"}
# Imported only under a server that brings it (webapp/live/socket_response.py, eventlet mode).
OPTIONAL = {"eventlet"}
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\]+)", re.M)


def top_level_imports(*folders: str) -> set[str]:
    names = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py") if folder.endswith("/") else [ROOT / folder]:
            if path.name == "setup.py" or ".venv" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - FIRST_PARTY - OPTIONAL


def declared(*files: str) -> set[str]:
    names = set()
    for name in files:
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-"):
                names.add(canonicalize_name(Requirement(line).name))
    return names


def undeclared(modules: set[str], names: set[str]) -> list[str]:
    owners = packages_distributions()
    missing = []
    for module in sorted(modules):
        dists = {canonicalize_name(d) for d in owners.get(module, [module])}
        if not dists & names:
            missing.append(f"{module} (from {', '.join(sorted(dists))})")
    return missing


def pins(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text()
    return {canonicalize_name(m.group(1)): m.group(2) for m in PIN.finditer(text)}


def test_every_package_the_app_imports_is_a_declared_runtime_dependency():
    modules = top_level_imports("webapp/", "pipeline/", "wsgi.py", "seed_data.py")
    assert {"flask", "werkzeug", "wtforms", "click", "simple_websocket"} <= modules
    assert undeclared(modules, declared("requirements.in")) == []


def test_every_package_tests_and_benchmarks_import_is_declared():
    modules = top_level_imports("tests/", "bench/")
    names = declared("requirements.in", "requirements-dev.in")
    assert undeclared(modules, names) == []


def test_requirements_are_fully_pinned_with_hashes():
    for name in ("requirements.txt", "requirements-dev.txt"):
        blocks = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / name).read_text())
        requirements = [b for b in blocks if PIN.match(b)]
        assert len(requirements) > 50, name
        for block in requirements:
            assert "--hash=sha256:" in block, f"{name}: {block.splitlines()[0]} has no hash"
        loose = [b.splitlines()[0] for b in blocks if b[:1].isalnum() and not PIN.match(b)]
        assert loose == [], f"{name}: not pinned: {loose}"


def test_dev_lock_keeps_the_runtime_pins_and_versions_are_current():
    runtime, dev = pins("requirements.txt"), pins("requirements-dev.txt")
    assert {name: dev.get(name) for name in runtime} == runtime
    # apache-beam[gcp] (fixed by the product brief) caps the Dataflow client below 0.14.
    assert Version(runtime["apache-beam"]) >= Version("2.77.0")
    assert Version("0.13") <= Version(runtime["google-cloud-dataflow-client"]) < Version("0.14")
    assert declared("requirements.in") <= set(runtime)
