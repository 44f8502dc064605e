"""Recovery codes, sign-in failures of unknown emails, and settings AIPHAS changes in the app."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db


class RecoveryCode(db.Model):
    """One single-use recovery code, stored as a salted SHA-256 hash only."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(100))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UnknownLogin(db.Model):
    """Failures for an email that has no account, so it locks exactly like a real one."""

    __tablename__ = "unknown_login"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AppSetting(db.Model):
    """A setting AIPHAS changes from the console (e.g. two-step sign-in for every doctor)."""

    __tablename__ = "app_setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
