"""The orjson parse of FHIR gives exactly the outcomes of the exact (stdlib, Decimal) parse."""

import io
import json

import pytest

from pipeline import fhir
from pipeline.stats import new_stats

SPEC = {"source_system": "fhir", "uri": "x.json", "relpath": "x.json", "generation": "1-1"}


def _bundle(*resources):
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def _visit(cost_literal):
    """A bundle text whose Claim total is written exactly as `cost_literal`."""
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "2000-01-02"}
    encounter = {
        "resourceType": "Encounter",
        "id": "e1",
        "subject": {"reference": "urn:uuid:p1"},
        "period": {"start": "2021-08-31T20:00:00-07:00"},
    }
    claim = {
        "resourceType": "Claim",
        "id": "c1",
        "item": [{"encounter": [{"reference": "urn:uuid:e1"}]}],
        "total": {"value": "COST"},
    }
    return json.dumps(_bundle(patient, encounter, claim)).replace('"COST"', cost_literal)


def _parse(text, exact, monkeypatch, parser=fhir.parse_bundle):
    if exact:
        monkeypatch.setattr(fhir, "fast_loads", lambda _data: None)
    stats = new_stats(SPEC, "fhir_bundle")
    outcomes = list(parser(SPEC, io.BytesIO(text.encode("utf-8")), stats))
    monkeypatch.undo()
    return outcomes, stats


def _both(text, monkeypatch, parser=fhir.parse_bundle):
    (fast, fast_stats), (exact, exact_stats) = (
        _parse(text, exact, monkeypatch, parser) for exact in (False, True)
    )
    # repr, not ==: Decimal("1.50") == 1.5, but a row holding either is written differently.
    assert (repr(fast), fast_stats) == (repr(exact), exact_stats)
    return fast


def test_the_shared_bundles_parse_the_same_both_ways(shared_data, monkeypatch):
    files = sorted((shared_data / "synthea-ca" / "fhir").glob("*.json"))
    assert files
    for path in files:
        _both(path.read_text(encoding="utf-8"), monkeypatch)


@pytest.mark.parametrize(
    ("literal", "cost"),
    [
        ("108.80000000000001", "108.80"),
        ("12", "12.00"),
        # Its float is 0.125: only the literal says it rounds down.
        ("0.12499999999999999999", "0.12"),
        ("0.125", "0.13"),
    ],
)
def test_costs_round_from_the_literal(literal, cost, monkeypatch):
    outcomes = _both(_visit(literal), monkeypatch)
    records = [row for kind, row in outcomes if kind == "record"]
    assert [r["cost"] for r in records] == [cost]


def test_a_rejects_detail_prints_the_number_as_written(monkeypatch):
    outcomes = _both(_visit("-5.10"), monkeypatch)
    details = [row["detail"] for kind, row in outcomes if kind == "reject"]
    assert details == ["Claim.total.value=-5.10"]


def test_ndjson_lines_parse_the_same_both_ways(monkeypatch):
    lines = [
        {"resourceType": "Patient", "id": "p1", "birthDate": "2000-01-02", "gender": "male"},
        {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}},
        {"resourceType": "Claim", "id": "k1", "total": {"value": 1.5}, "item": []},
        {"resourceType": "Observation", "id": "o1", "valueQuantity": {"value": 36.60}},
        {
            "resourceType": "Condition",
            "id": "c2",
            "subject": {"reference": "Patient/p1"},
            "recordedDate": "2021-01-02",
            "code": {"text": "TEXT"},
        },
    ]
    text = "".join(json.dumps(line) + "\n" for line in lines) + "{not json\nNaN\n"
    text = text.replace('"TEXT"', "1.50")  # a number where text belongs: copied as written
    outcomes = _both(text, monkeypatch, fhir.parse_ndjson)
    kinds = ["patient", "reject", "reject", "skip", "record", "reject", "reject"]
    assert [kind for kind, _ in outcomes] == kinds
    assert repr(outcomes[4][1]["diagnosis"]) == "Decimal('1.50')"
