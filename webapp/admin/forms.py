"""Forms of the AIPHAS console: account details, a new account's password, audit filters."""

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, EmailField, Form, PasswordField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from webapp.extensions import db
from webapp.models import Organization, Role
from webapp.models.permissions import DOCTOR
from webapp.services.accounts.changes import (
    DUPLICATE_EMAIL,
    ORGANIZATION_REQUIRED,
    AccountDetails,
    email_taken,
)
from webapp.services.accounts.passwords import password_problems

EMAIL_SHAPE = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Enter an email address.")
GENERATE, SET = "generate", "set"


def strip(value):
    """Drop the spaces a paste brings along."""
    return value.strip() if isinstance(value, str) else value


class AccountForm(FlaskForm):
    """Name, email, role and organization, as created and edited by an administrator."""

    # Someone else's details: the administrator's own saved name and email must not fill in.
    name = StringField(
        "Name",
        filters=[strip],
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "off"},
    )
    email = EmailField(
        "Email",
        filters=[strip],
        validators=[DataRequired(), Length(max=254), EMAIL_SHAPE],
        render_kw={"autocomplete": "off"},
    )
    role = SelectField("Role", validators=[DataRequired()])
    organization = SelectField("Organization", default="")

    def __init__(self, *args, user_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._user_id = user_id
        self.role.choices = list(db.session.scalars(select(Role.name).order_by(Role.name)))
        organizations = db.session.scalars(select(Organization).order_by(Organization.name))
        self.organization.choices = [SelectChoice("", "— none —")] + [
            SelectChoice(str(org.id), org.label) for org in organizations
        ]

    def validate_email(self, field):
        """Report a taken email with the other field errors (the service checks again)."""
        if email_taken(field.data or "", exclude_id=self._user_id):
            raise ValidationError(DUPLICATE_EMAIL)

    def validate_organization(self, field):
        """Doctors belong to an organization; AIPHAS staff may not."""
        if self.role.data == DOCTOR and not field.data:
            raise ValidationError(ORGANIZATION_REQUIRED)

    def details(self) -> AccountDetails:
        """The submitted values as the account service takes them."""
        role = db.session.scalar(select(Role).filter_by(name=self.role.data))
        organization = (
            db.session.get(Organization, int(self.organization.data))
            if self.organization.data
            else None
        )
        return AccountDetails(self.name.data, self.email.data, role, organization)


class NewAccountForm(AccountForm):
    """An account plus its first password: typed in, or generated and shown once."""

    password_mode = RadioField(
        "First password",
        choices=[
            SelectChoice(
                GENERATE, "Generate a temporary password (shown once; must be changed at sign-in)"
            ),
            SelectChoice(SET, "Set this password:"),
        ],
        default=GENERATE,
    )
    # Another person's first password: the browser must not offer the administrator's own.
    password = PasswordField(
        "Password", validators=[Length(max=256)], render_kw={"autocomplete": "new-password"}
    )

    def validate_password(self, field):
        """Apply the password policy when the administrator chose to type one."""
        if self.password_mode.data != SET:
            return
        if not field.data:
            raise ValidationError("Type a password, or choose to generate one.")
        if problems := password_problems(
            field.data, (self.email.data or "").strip(), self.name.data or ""
        ):
            raise ValidationError(" ".join(problems))

    def chosen_password(self) -> str | None:
        """The typed password, or None when one should be generated."""
        return self.password.data if self.password_mode.data == SET else None


class AuditFilterForm(Form):
    """Filters of the audit log, read from the query string (GET, so no CSRF)."""

    user = StringField("User (email or id)", validators=[Optional(), Length(max=254)])
    action = StringField("Action", validators=[Optional(), Length(max=64)])
    patient = StringField(
        "Patient id",
        validators=[Optional(), Regexp(r"^\d{1,12}$", message="Enter a patient id (a number).")],
    )
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])

    def validate_date_to(self, field):
        """The range must not end before it starts."""
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")
