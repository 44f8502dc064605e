"""Server-side sign-in sessions: the cookie holds only a random id whose SHA-256 is stored here."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.common.clock import utcnow
from webapp.extensions import db


class UserSession(db.Model):
    """One sign-in of one user, from sign-in until it ends (sign-out, idle, max age, ...)."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 hex of the cookie's random id: a database leak yields no usable session.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    second_factor_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(32))

    user: Mapped["User"] = relationship(lazy="joined")  # noqa: F821

    @property
    def is_open(self) -> bool:
        """True until the session has been ended."""
        return self.ended_at is None
