"""Who must use two-step sign-in: AIPHAS always, doctors when the setting or config says so."""

from flask import current_app, g

from webapp.extensions import db
from webapp.models import AppSetting
from webapp.services.audit.events import record_event

DOCTOR_MFA_KEY = "require_doctor_mfa"


def doctor_mfa_from_config() -> bool:
    """REQUIRE_DOCTOR_MFA: an operator's requirement that the console cannot lift."""
    return bool(current_app.config.get("REQUIRE_DOCTOR_MFA"))


def doctors_must_use_mfa() -> bool:
    """True when every doctor must pass a second factor (read once per request)."""
    if doctor_mfa_from_config():
        return True
    if "doctor_mfa" not in g:
        setting = db.session.get(AppSetting, DOCTOR_MFA_KEY)
        g.doctor_mfa = setting is not None and setting.value == "on"
    return g.doctor_mfa


def note_doctor_mfa_setting(value: str | None) -> None:
    """Keep the console setting for this request, read along with the session (one round trip)."""
    g.doctor_mfa = value == "on"


def set_doctors_must_use_mfa(required: bool) -> bool:
    """Save the console setting, audited; returns whether it changed."""
    setting = db.session.get(AppSetting, DOCTOR_MFA_KEY)
    before = setting is not None and setting.value == "on"
    if before == required:
        return False
    if setting is None:
        setting = AppSetting(key=DOCTOR_MFA_KEY, value="off")
        db.session.add(setting)
    setting.value = "on" if required else "off"
    g.pop("doctor_mfa", None)
    record_event("settings.changed", details={DOCTOR_MFA_KEY: [before, required]})
    return True
