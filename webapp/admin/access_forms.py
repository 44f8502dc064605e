"""Forms of the AIPHAS access pages: source system registry and emergency-access review."""

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

from webapp.admin.forms import strip
from webapp.extensions import db
from webapp.models import Hospital

UNASSIGNED = ""


def hospital_choices() -> list[SelectChoice]:
    """Every hospital, plus "Unassigned" first (its patients are visible to no doctor)."""
    hospitals = db.session.scalars(select(Hospital).order_by(Hospital.name))
    return [
        SelectChoice(UNASSIGNED, "Unassigned"),
        *(SelectChoice(str(h.id), f"{h.name} ({h.code})") for h in hospitals),
    ]


class AssignForm(FlaskForm):
    """Which hospital a source system belongs to."""

    hospital = SelectField("Hospital", default=UNASSIGNED)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.hospital.choices = hospital_choices()

    def chosen_hospital(self) -> Hospital | None:
        """The chosen hospital row, or None for unassigned."""
        return db.session.get(Hospital, int(self.hospital.data)) if self.hospital.data else None


class SourceForm(AssignForm):
    """A new source system: its folder name under incoming/, hospital and description."""

    name = StringField(
        "Name (folder under incoming/)",
        filters=[strip],
        validators=[
            DataRequired(),
            Length(max=120),
            Regexp(r"^[^/\s]+$", message="One folder name: no spaces or '/'."),
        ],
    )
    description = StringField("Description", filters=[strip], validators=[Length(max=300)])


class ReviewForm(FlaskForm):
    """Marks an emergency access reviewed (the CSRF token is the whole form)."""
