"""A doctor's open /costs page shows rows the Pub/Sub hook loads, without a reload."""

import time

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


def test_new_and_changed_rows_appear_live(page, live_server, app, db, tmp_path, monkeypatch):
    key = SigningKey("browser-key")
    certs = CertServer(key)
    for name, value in {**hook_settings(certs.url), "STORAGE_URI": str(tmp_path)}.items():
        monkeypatch.setitem(app.config, name, value)
    doctor, ana = make_user("DOCTOR"), make_patient()
    sign_in(page, doctor.email, PASSWORD)
    page.goto("/costs")
    page.evaluate("window.notReloaded = true")
    state = app.extensions["live"]
    wait_until(lambda: len(state.hub) >= 1 and state.listener and state.listener.connected.is_set())

    def deliver(run_id, rows):
        write_output(storage.join(str(tmp_path), "output", run_id), run_id, rows)
        response = requests.post(
            f"{live_server.url}/hooks/pubsub/storage",
            json=push_envelope(f"output/{run_id}/_SUCCESS"),
            headers={"Authorization": f"Bearer {key.sign()}"},
            timeout=30,
        )
        assert response.status_code == 204, response.text

    try:
        deliver("run-1", [(ana.id, "2025-01-10", "40.00")])
        row = page.locator(f"#cost-rows > tr#cost-{ana.id}-2025-01")
        expect(row).to_contain_text("40.00")
        expect(row).to_contain_text("Ana García")
        deliver("run-2", [(ana.id, "2025-01-11", "2.50")])
        expect(row).to_contain_text("42.50")
        expect(page.locator(f"tr#cost-{ana.id}-2025-01")).to_have_count(1)
        assert page.evaluate("window.notReloaded") is True
    finally:
        certs.stop()
