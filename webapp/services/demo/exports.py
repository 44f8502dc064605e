"""Demo export files in the three formats hospital systems send, from our own generator.

`make run` writes them under $STORAGE_URI/incoming/ and ingests them through the real
pipeline: a legacy CSV for platform patients, a Synthea-style CSV folder, and FHIR bundles
for some of the same people (so identity linking and duplicate visits show up), plus a few
bad rows so the rejects page has something to say.
"""

import csv
import io
import json
import random
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from pipeline.canonical import LEGACY_COLUMNS
from webapp.services import storage
from webapp.services.demo import generator as demo_data

LEGACY_SYSTEM = "st-aiken-legacy"
SYNTHEA_SYSTEM = "bayview-synthea"
FHIR_SYSTEM = "valley-fhir"
PACIFIC = timezone(timedelta(hours=-7))

LEGACY_HEADER = list(LEGACY_COLUMNS)
PATIENT_HEADER = [
    "Id",
    "BIRTHDATE",
    "DEATHDATE",
    "FIRST",
    "LAST",
    "GENDER",
    "ADDRESS",
    "CITY",
    "STATE",
    "ZIP",
]
ENCOUNTER_HEADER = [
    "Id",
    "START",
    "STOP",
    "PATIENT",
    "ORGANIZATION",
    "PROVIDER",
    "PAYER",
    "ENCOUNTERCLASS",
    "CODE",
    "DESCRIPTION",
    "BASE_ENCOUNTER_COST",
    "TOTAL_CLAIM_COST",
    "PAYER_COVERAGE",
    "REASONCODE",
    "REASONDESCRIPTION",
]
MEDICATION_HEADER = [
    "START",
    "STOP",
    "PATIENT",
    "PAYER",
    "ENCOUNTER",
    "CODE",
    "DESCRIPTION",
    "BASE_COST",
    "PAYER_COVERAGE",
    "DISPENSES",
    "TOTALCOST",
    "REASONCODE",
    "REASONDESCRIPTION",
]
CONDITION_HEADER = ["START", "STOP", "PATIENT", "ENCOUNTER", "CODE", "DESCRIPTION"]


def _csv_text(header: list[str], rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def legacy_csv(platform_patient_ids: list[int], today: date, rng: random.Random) -> str:
    """Legacy-platform records for existing patients, with one bad cost and one unknown id."""
    rows = []
    for number, patient_id in enumerate(platform_patient_ids, start=1):
        day = today - timedelta(days=rng.randrange(0, 150))
        record = demo_data.demo_records(rng, 1, day)[0]
        stamp = f"{day.isoformat()} 09:00:00"
        rows.append(
            [
                number,
                patient_id,
                day.isoformat(),
                record.diagnosis or "Check-up",
                record.treatment or "",
                record.prescription or "",
                f"{record.cost:.2f}",
                "",
                stamp,
                stamp,
            ]
        )
    stamp = f"{today.isoformat()} 09:00:00"
    rows.append(
        [
            len(rows) + 1,
            platform_patient_ids[0],
            today.isoformat(),
            "Flu",
            "Rest",
            "",
            "n/a",
            "cost missing at source",
            stamp,
            stamp,
        ]
    )
    rows.append(
        [len(rows) + 1, 999999, today.isoformat(), "Flu", "Rest", "", "20.00", "", stamp, stamp]
    )
    return _csv_text(LEGACY_HEADER, rows)


def _people(count: int, rng: random.Random) -> list[tuple[str, demo_data.DemoPatient]]:
    return [(f"bv-{rng.getrandbits(48):012x}", demo_data.demo_patient(rng)) for _ in range(count)]


def _visits(rng: random.Random, today: date) -> list[tuple[datetime, str, Decimal]]:
    visits = []
    for _ in range(rng.randint(2, 5)):
        local = datetime.combine(today - timedelta(days=rng.randrange(1, 200)), datetime.min.time())
        local = local.replace(hour=rng.randint(8, 20), tzinfo=PACIFIC)
        visits.append(
            (
                local,
                rng.choice(("Hypertension follow-up", "Chest pain", "Migraine")),
                Decimal(rng.randint(9000, 90000)) / 100,
            )
        )
    return visits


def synthea_files(people, visits) -> dict[str, str]:
    """patients/encounters/medications/conditions.csv for the Synthea-style system."""
    patients, encounters, medications, conditions = [], [], [], []
    for (pid, person), person_visits in zip(people, visits, strict=True):
        patients.append(
            [
                pid,
                person.birth_date.isoformat(),
                "",
                f"{person.given_name}",
                person.family_name,
                "F" if person.sex == "female" else "M",
                "1 Demo Street",
                person.city,
                "California",
                "94000",
            ]
        )
        for n, (when, reason, cost) in enumerate(person_visits):
            start = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            eid = f"{pid}-enc-{n}"
            encounters.append(
                [
                    eid,
                    start,
                    start,
                    pid,
                    "org-1",
                    "prov-1",
                    "payer-1",
                    "ambulatory",
                    "185349003",
                    "Encounter for check up",
                    f"{cost:.2f}",
                    f"{cost:.2f}",
                    "0.00",
                    "",
                    reason,
                ]
            )
            medications.append(
                [
                    start,
                    "",
                    pid,
                    "payer-1",
                    eid,
                    "314076",
                    "lisinopril 10 MG",
                    "12.50",
                    "0.00",
                    "1",
                    "12.50",
                    "",
                    reason,
                ]
            )
            conditions.append([when.date().isoformat(), "", pid, eid, "38341003", reason])
    conditions.append(["not-a-date", "", people[0][0], "", "1", "Bad date row"])
    return {
        "patients.csv": _csv_text(PATIENT_HEADER, patients),
        "encounters.csv": _csv_text(ENCOUNTER_HEADER, encounters),
        "medications.csv": _csv_text(MEDICATION_HEADER, medications),
        "conditions.csv": _csv_text(CONDITION_HEADER, conditions),
    }


def fhir_bundle(fhir_id: str, person: demo_data.DemoPatient, visits) -> str:
    """A FHIR R4 transaction bundle: Patient, Encounters and the Claims that price them."""
    entries = [
        {
            "fullUrl": f"urn:uuid:{fhir_id}",
            "resource": {
                "resourceType": "Patient",
                "id": fhir_id,
                "gender": person.sex,
                "birthDate": person.birth_date.isoformat(),
                "name": [
                    {"use": "official", "given": [person.given_name], "family": person.family_name}
                ],
                "address": [
                    {"line": ["1 Demo Street"], "city": person.city, "state": "California"}
                ],
            },
            "request": {"method": "POST", "url": "Patient"},
        }
    ]
    for n, (when, reason, cost) in enumerate(visits):
        enc_id = f"{fhir_id}-enc-{n}"
        entries.append(
            {
                "fullUrl": f"urn:uuid:{enc_id}",
                "resource": {
                    "resourceType": "Encounter",
                    "id": enc_id,
                    "status": "finished",
                    "class": {"code": "AMB"},
                    "type": [{"text": "Encounter for check up"}],
                    "subject": {"reference": f"urn:uuid:{fhir_id}"},
                    "period": {"start": when.isoformat(), "end": when.isoformat()},
                    "reasonCode": [{"coding": [{"display": reason}]}],
                },
                "request": {"method": "POST", "url": "Encounter"},
            }
        )
        entries.append(
            {
                "fullUrl": f"urn:uuid:{enc_id}-claim",
                "resource": {
                    "resourceType": "Claim",
                    "id": f"{enc_id}-claim",
                    "status": "active",
                    "use": "claim",
                    "type": {"coding": [{"code": "institutional"}]},
                    "patient": {"reference": f"urn:uuid:{fhir_id}"},
                    "item": [{"sequence": 1, "encounter": [{"reference": f"urn:uuid:{enc_id}"}]}],
                    "total": {"value": float(cost), "currency": "USD"},
                },
                "request": {"method": "POST", "url": "Claim"},
            }
        )
    return json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": entries}, indent=1)


def write_demo_exports(
    storage_uri: str, platform_patient_ids: list[int], today: date | None = None, seed: int = 7
) -> list[str]:
    """Write the demo exports under <storage_uri>/incoming and return the files written."""
    today = today or date.today()
    rng = random.Random(seed)
    incoming = storage.join(storage_uri, "incoming")
    files = {
        storage.join(incoming, LEGACY_SYSTEM, "medical_records.csv"): legacy_csv(
            platform_patient_ids, today, rng
        )
    }
    people = _people(12, rng)
    visits = [_visits(rng, today) for _ in people]
    for name, text in synthea_files(people, visits).items():
        files[storage.join(incoming, SYNTHEA_SYSTEM, name)] = text
    # The first four people also attend Valley: same person and visits, other ids and offsets.
    for index, ((_, person), person_visits) in enumerate(zip(people[:4], visits[:4], strict=True)):
        fhir_id = f"valley-{index:04d}"
        files[storage.join(incoming, FHIR_SYSTEM, f"{fhir_id}.json")] = fhir_bundle(
            fhir_id, person, person_visits
        )
    files[storage.join(incoming, FHIR_SYSTEM, "broken-upload.json")] = '{"resourceType": "Bun'
    for uri, text in files.items():
        storage.write_text(uri, text)
    return sorted(files)
