"""One person, several systems: tie each source patient id to a platform patient."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select, tuple_

from webapp.extensions import db
from webapp.models import Patient, PatientIdentifier
from webapp.services.patients.names import match_key, search_name

SourceKey = tuple[str, str]


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


@dataclass
class PatientResolver:
    """Maps (source_system, source_patient_id) to patient ids, creating or linking as needed."""

    known: dict[SourceKey, int] = field(default_factory=dict)
    created: int = 0
    linked: int = 0

    def resolve_batch(self, rows: list[dict]) -> None:
        """Resolve a batch of pipeline patient rows: known id, demographic match, or new."""
        keys = [(row["source_system"], str(row["source_patient_id"])) for row in rows]
        self._load_known(keys)
        for key, row in zip(keys, rows, strict=True):
            if key not in self.known:
                self.known[key] = self._link_or_create(key, row)

    def patient_for(self, key: SourceKey) -> int | None:
        """The patient of a source id already seen in this load or stored before."""
        if key not in self.known:
            self._load_known([key])
        return self.known.get(key)

    def _load_known(self, keys: list[SourceKey]) -> None:
        missing = list({k for k in keys if k not in self.known})
        if not missing:
            return
        found = db.session.execute(
            select(
                PatientIdentifier.source_system,
                PatientIdentifier.source_patient_id,
                PatientIdentifier.patient_id,
            ).where(
                tuple_(PatientIdentifier.source_system, PatientIdentifier.source_patient_id).in_(
                    missing
                )
            )
        )
        for system, source_id, patient_id in found:
            self.known[(system, source_id)] = patient_id

    def _link_or_create(self, key: SourceKey, row: dict) -> int:
        birth = _date(row.get("birth_date"))
        sex = row.get("sex") or "unknown"
        key_text = match_key(row.get("given_name"), row.get("family_name"), birth, sex)
        patient_id = None
        if key_text:
            patient_id = db.session.scalar(
                select(Patient.id).where(Patient.match_key == key_text).order_by(Patient.id)
            )
        method = "demographic-match"
        if patient_id is None:
            patient_id = self._create(row, birth, sex, key_text or None)
            method = "new"
            self.created += 1
        else:
            self.linked += 1
        db.session.add(
            PatientIdentifier(
                patient_id=patient_id,
                source_system=key[0],
                source_patient_id=key[1],
                link_method=method,
            )
        )
        return patient_id

    def _create(self, row: dict, birth: date | None, sex: str, key_text: str | None) -> int:
        given, family = row.get("given_name") or "", row.get("family_name") or ""
        patient = Patient(
            given_name=given,
            family_name=family,
            birth_date=birth,
            sex=sex,
            deceased_date=_date(row.get("deceased_date")),
            address=row.get("address"),
            city=row.get("city"),
            state=row.get("state"),
            postal_code=row.get("postal_code"),
            search_name=search_name(given, family),
            match_key=key_text,
        )
        db.session.add(patient)
        db.session.flush()
        return patient.id
