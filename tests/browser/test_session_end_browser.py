"""An open /costs page follows its session: cleared and sent to sign-in when it ends."""

import re
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.support.browser import sign_in
from tests.support.factories import PASSWORD, make_patient, make_record, make_user
from webapp.services.costs.recompute import recompute_costs


def costs_page_with_a_patient(page, db):
    doctor, ana = make_user("DOCTOR"), make_patient()
    make_record(ana, date(2025, 3, 4), "12.00")
    recompute_costs([ana.id])
    db.session.commit()
    sign_in(page, doctor.email, PASSWORD)
    page.goto("/costs")
    expect(page.locator("#main")).to_contain_text("Ana García")


def test_sign_out_in_another_tab_clears_the_costs_page(page, db):
    costs_page_with_a_patient(page, db)
    page.evaluate(
        """() => { window.cleared = false;
        new MutationObserver(() => {
          if (!document.body.textContent.includes('Ana García')) window.cleared = true;
        }).observe(document.body, {childList: true, subtree: true}); }"""
    )
    other_tab = page.context.new_page()
    other_tab.goto("/costs")
    other_tab.get_by_role("button", name="Sign out").click()
    expect(other_tab).to_have_url(re.compile(r"/login$"))
    expect(page).to_have_url(re.compile(r"/login\?ended=signed_out$"), timeout=6_000)
    expect(page.locator("#session-ended")).to_have_text("You signed out.")
    expect(page.locator("body")).not_to_contain_text("Ana García")
    other_tab.close()


def test_the_page_signs_itself_out_at_the_idle_deadline(page, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "IDLE_TIMEOUT", timedelta(seconds=3))
    costs_page_with_a_patient(page, db)
    expect(page).to_have_url(re.compile(r"/login\?ended=idle$"), timeout=9_000)
    expect(page.locator("#session-ended")).to_contain_text("without activity")
    expect(page.locator("body")).not_to_contain_text("Ana García")
    page.goto("/costs")
    expect(page).to_have_url(re.compile(r"/login\?next="))
