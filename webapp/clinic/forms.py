"""Forms of the doctor dashboard: the break-the-glass confirmation."""

from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from webapp.services.patients.break_glass import REASONS


def strip(value):
    """Drop the spaces a paste brings along."""
    return value.strip() if isinstance(value, str) else value


class BreakGlassForm(FlaskForm):
    """Why a doctor needs a patient outside their hospital: a reason and a free-text note."""

    reason = SelectField(
        "Reason",
        choices=[
            SelectChoice("", "Choose a reason…"),
            *(SelectChoice(code, label) for code, label in REASONS.items()),
        ],
        validators=[DataRequired(message="Choose a reason.")],
    )
    details = TextAreaField(
        "Details",
        filters=[strip],
        validators=[
            DataRequired(message="Say why you need this patient's record."),
            Length(min=5, max=500, message="Write between 5 and 500 characters."),
        ],
    )
