"""`make test` brings Debian's Chromium when it is missing, or says in one line how to."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def make_chromium(tmp_path, **variables):
    args = ["make", "-s", "--no-print-directory", "chromium"]
    args += [f"{name}={value}" for name, value in variables.items()]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60)


def fake_apt_get(tmp_path) -> tuple[Path, Path]:
    """An apt-get stand-in that records its arguments, one call a line."""
    calls = tmp_path / "apt-calls"
    script = tmp_path / "apt-get"
    script.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    script.chmod(0o755)
    return script, calls


def test_as_root_a_missing_chromium_is_installed_from_debian(tmp_path):
    apt_get, calls = fake_apt_get(tmp_path)
    result = make_chromium(tmp_path, CHROMIUM=tmp_path / "chromium", APT_GET=apt_get, USER_ID=0)
    assert result.returncode == 0, result.stderr
    assert calls.read_text().splitlines() == ["update -qq", "install -y -qq chromium"]


def test_as_another_user_one_line_says_what_to_run(tmp_path):
    apt_get, calls = fake_apt_get(tmp_path)
    result = make_chromium(tmp_path, CHROMIUM=tmp_path / "chromium", APT_GET=apt_get, USER_ID=1000)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if not line.startswith("make")]
    assert len(lines) == 1 and "sudo apt-get install -y chromium" in lines[0]
    assert not calls.exists()


def test_a_present_chromium_is_left_alone(tmp_path):
    apt_get, calls = fake_apt_get(tmp_path)
    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    result = make_chromium(tmp_path, CHROMIUM=browser, APT_GET=apt_get, USER_ID=0)
    assert result.returncode == 0 and not calls.exists()


def test_make_test_depends_on_the_browser_and_ci_still_runs_lint_then_test():
    makefile = (ROOT / "Makefile").read_text()
    assert any(line.startswith("test:") and "chromium" in line for line in makefile.splitlines())
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.index("make lint") < ci.index("make test")
    assert "pg_isready" in ci and "redis-cli" in ci
