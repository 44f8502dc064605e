"""A deterministic generator of synthetic patients and records for demos and benchmarks."""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

GIVEN_NAMES = (
    "Ana",
    "Bruno",
    "Chloé",
    "Dmitri",
    "Elena",
    "Farah",
    "Gustavo",
    "Hana",
    "Iñaki",
    "Jerónimo",
    "Keiko",
    "Léa",
    "Mateo",
    "Nadia",
    "Olu",
    "Priya",
    "Quentin",
    "Renée",
    "Søren",
    "Tomás",
    "Uma",
    "Valentina",
    "Wei",
    "Ximena",
    "Yusuf",
    "Zoë",
    "Amelia",
    "Benjamin",
    "Camila",
    "Daniel",
)
FAMILY_NAMES = (
    "Álvarez",
    "Brown",
    "Chen",
    "Dubois",
    "Eriksen",
    "Farías",
    "García",
    "Hoffmann",
    "Ibáñez",
    "Johnson",
    "Kowalski",
    "López",
    "Müller",
    "Nguyen",
    "O'Brien",
    "Patel",
    "Quispe",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Uribe",
    "Vela",
    "Williams",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Nader",
    "Kunze",
)
CITIES = ("San Diego", "Fresno", "Oakland", "Sacramento", "San José", "Los Angeles", "Irvine")
DIAGNOSES = (
    ("encounter", "Hypertension follow-up", "Blood pressure check", None, (80, 250)),
    ("encounter", "Chest pain", "ECG and troponin", None, (300, 2400)),
    ("encounter", "Migraine", "Neurological exam", None, (120, 600)),
    ("encounter", "Annual wellness visit", "Physical examination", None, (90, 300)),
    ("medication", None, None, "Lisinopril 10 MG Oral Tablet", (5, 60)),
    ("medication", None, None, "Atorvastatin 20 MG Oral Tablet", (8, 90)),
    ("medication", None, None, "Sumatriptan 50 MG Oral Tablet", (20, 140)),
    ("condition", "Essential hypertension", None, None, (0, 0)),
    ("condition", "Hyperlipidemia", None, None, (0, 0)),
)


@dataclass(frozen=True)
class DemoPatient:
    """Demographics of one synthetic patient."""

    given_name: str
    family_name: str
    birth_date: date
    sex: str
    city: str


@dataclass(frozen=True)
class DemoRecord:
    """One synthetic encounter, medication or condition."""

    kind: str
    record_date: date
    diagnosis: str | None
    treatment: str | None
    prescription: str | None
    cost: Decimal


def demo_patient(rng: random.Random) -> DemoPatient:
    """One patient drawn from the name and city lists."""
    birth = date(1935, 1, 1) + timedelta(days=rng.randrange(0, 365 * 85))
    return DemoPatient(
        given_name=rng.choice(GIVEN_NAMES),
        family_name=rng.choice(FAMILY_NAMES),
        birth_date=birth,
        sex=rng.choice(("female", "male")),
        city=rng.choice(CITIES),
    )


def demo_records(rng: random.Random, count: int, end: date) -> list[DemoRecord]:
    """`count` records spread over the twelve months before `end`."""
    records = []
    for _ in range(count):
        kind, diagnosis, treatment, prescription, (low, high) = rng.choice(DIAGNOSES)
        cents = rng.randint(low * 100, high * 100) if high else 0
        records.append(
            DemoRecord(
                kind=kind,
                record_date=end - timedelta(days=rng.randrange(0, 365)),
                diagnosis=diagnosis,
                treatment=treatment,
                prescription=prescription,
                cost=Decimal(cents) / 100,
            )
        )
    return records


def generate(
    count: int, records_per_patient: int = 5, seed: int = 2026, end: date | None = None
) -> Iterator[tuple[DemoPatient, list[DemoRecord]]]:
    """Yield `count` patients with their records; the same seed gives the same data."""
    rng = random.Random(seed)
    end = end or date.today()
    for _ in range(count):
        yield demo_patient(rng), demo_records(rng, records_per_patient, end)
