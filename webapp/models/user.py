"""Users, their roles and the permissions a role grants."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, Boolean, Column, DateTime, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.common.clock import as_utc, utcnow
from webapp.extensions import db

role_permission = Table(
    "role_permission",
    db.Model.metadata,
    Column("role_id", Integer, ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "permission_id", Integer, ForeignKey("permission.id", ondelete="CASCADE"), primary_key=True
    ),
)


class Permission(db.Model):
    """A named capability such as `patients:read`."""

    __tablename__ = "permission"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(200), default="")


class Role(db.Model):
    """A role (AIPHAS, DOCTOR) and the permissions it holds."""

    __tablename__ = "role"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    permissions: Mapped[list[Permission]] = relationship(secondary=role_permission, lazy="selectin")

    @property
    def permission_names(self) -> frozenset[str]:
        """Names of every permission the role grants."""
        return frozenset(p.name for p in self.permissions)


class User(UserMixin, db.Model):
    """A person who signs in to the dashboard."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("role.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id"), index=True, nullable=True
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the password was last set: temporary passwords expire TEMP_PASSWORD_HOURS after it.
    password_set_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The TOTP secret, Fernet-encrypted with a key derived from SECRET_KEY (see totp.py).
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last RFC 6238 time step accepted, so a code cannot be used twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    role: Mapped[Role] = relationship(lazy="joined")
    organization: Mapped["Organization | None"] = relationship(lazy="joined")  # noqa: F821

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses inactive users."""
        return self.active

    def set_password(self, password: str) -> None:
        """Store a salted scrypt hash of the password."""
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.password_set_at = utcnow()

    def check_password(self, password: str) -> bool:
        """Compare a password against the stored hash."""
        return check_password_hash(self.password_hash, password)

    def is_locked(self, now: datetime | None = None) -> bool:
        """True while a lockout is in force."""
        until = as_utc(self.locked_until)
        return until is not None and until > (now or utcnow())

    @property
    def has_second_factor(self) -> bool:
        """True once a TOTP authenticator has been enrolled and confirmed."""
        return self.totp_enabled_at is not None

    # Read with the session by the session guard's one statement (sessions.py): the role's
    # permission names and the patients of the user's unexpired break-the-glass grants. None
    # for a user loaded any other way, who reads them through the relationships.
    permissions_loaded = None
    grant_patient_ids_loaded = None

    def has_permission(self, name: str) -> bool:
        """True when the user's role grants the named permission."""
        names = self.permissions_loaded
        return name in (names if names is not None else self.role.permission_names)

    @property
    def status(self) -> str:
        """active, deactivated or locked, as shown in lists."""
        if not self.active:
            return "deactivated"
        return "locked" if self.is_locked() else "active"
