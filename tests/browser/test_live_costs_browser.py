"""A doctor's open /costs page and chart show rows the Pub/Sub hook loads, without a reload."""

import time

import pytest
import requests
from playwright.sync_api import expect

from tests.support.browser import sign_in
from tests.support.factories import PASSWORD, make_patient, make_user
from tests.support.oidc import CertServer, SigningKey, hook_settings
from tests.support.run_outputs import push_envelope, write_output
from webapp.services import storage


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.fixture
def deliver(live_server, app, tmp_path, monkeypatch):
    """Load a run's output through the Pub/Sub hook, as storage notifications do."""
    key = SigningKey("browser-key")
    certs = CertServer(key)
    for name, value in {**hook_settings(certs.url), "STORAGE_URI": str(tmp_path)}.items():
        monkeypatch.setitem(app.config, name, value)

    def deliver(run_id, rows):
        write_output(storage.join(str(tmp_path), "output", run_id), run_id, rows)
        response = requests.post(
            f"{live_server.url}/hooks/pubsub/storage",
            json=push_envelope(f"output/{run_id}/_SUCCESS"),
            headers={"Authorization": f"Bearer {key.sign()}"},
            timeout=30,
        )
        assert response.status_code == 204, response.text

    yield deliver
    certs.stop()


def wait_for_socket(app):
    state = app.extensions["live"]
    wait_until(lambda: len(state.hub) >= 1 and state.listener and state.listener.connected.is_set())


def test_new_and_changed_rows_appear_live(page, app, db, deliver):
    doctor, ana = make_user("DOCTOR"), make_patient()
    sign_in(page, doctor.email, PASSWORD)
    page.goto("/costs")
    page.evaluate("window.notReloaded = true")
    wait_for_socket(app)
    deliver("run-1", [(ana.id, "2025-01-10", "40.00")])
    row = page.locator(f"#cost-rows > tr#cost-{ana.id}-2025-01")
    expect(row).to_contain_text("40.00")
    expect(row).to_contain_text("Ana García")
    deliver("run-2", [(ana.id, "2025-01-11", "2.50")])
    expect(row).to_contain_text("42.50")
    expect(page.locator(f"tr#cost-{ana.id}-2025-01")).to_have_count(1)
    assert page.evaluate("window.notReloaded") is True


def test_the_open_charts_svg_and_total_follow_its_rows(page, app, db, deliver):
    doctor, ana = make_user("DOCTOR"), make_patient()
    sign_in(page, doctor.email, PASSWORD)
    page.goto(f"/patients/{ana.id}")
    expect(page.locator("#chart-cost-rows")).to_contain_text("No costs recorded.")
    expect(page.locator("svg.cost-chart")).to_have_count(0)
    page.evaluate("window.notReloaded = true")
    wait_for_socket(app)
    deliver("run-1", [(ana.id, "2025-01-10", "40.00")])
    expect(page.locator("svg.cost-chart rect.bar")).to_have_count(1)
    expect(page.locator("#chart-cost-total")).to_have_text("40.00")
    expect(page.locator("#chart-cost-rows")).not_to_contain_text("No costs recorded.")
    deliver("run-2", [(ana.id, "2025-03-11", "60.00"), (ana.id, "2025-01-12", "2.50")])
    # Jan, Feb (no records, an empty slot) and Mar.
    expect(page.locator("svg.cost-chart rect.bar")).to_have_count(3)
    expect(page.locator("#chart-cost-total")).to_have_text("102.50")
    expect(page.locator("#cost-chart-title")).to_have_text(
        "Monthly cost of Ana García, total 102.50"
    )
    jan = page.locator('svg.cost-chart rect.bar[data-month="2025-01"] title')
    expect(jan).to_have_text("2025-01: 42.50")
    expect(page.locator(f"#chart-cost-{ana.id}-2025-03")).to_contain_text("60.00")
    expect(page.locator("#chart-cost-summary")).to_have_count(1)
    assert page.evaluate("window.notReloaded") is True
