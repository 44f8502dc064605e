"""Parsers for FHIR R4 Bundles and NDJSON: Patient, Encounter, Condition, MedicationRequest.

Costs come from Claim.total.value: an institutional Claim points at its Encounter through
item[].encounter, a pharmacy Claim (one with `prescription`) at its MedicationRequest. An
ExplanationOfBenefit's "submitted" total is used for a record only when no Claim prices it.
"""

import json
from decimal import Decimal

from pipeline.canonical import Reject, new_record, parse_instant, provenance, reject
from pipeline.fhir_costs import cost_fact
from pipeline.fhir_fast import accept, fast_loads
from pipeline.fhir_types import R4_RESOURCE_TYPES
from pipeline.readers import DecodedLines, drain_bad

RECORD_TYPES = {
    "Encounter": "encounter",
    "Condition": "condition",
    "MedicationRequest": "medication",
}
COST_TYPES = {"Claim", "ExplanationOfBenefit"}
REFERENCE_TYPES = {"Organization", "Location", "Practitioner", "PractitionerRole"}
# Records that a Claim or EOB can price; conditions never carry a cost.
PRICED_TYPES = {"Encounter", "MedicationRequest"}
SEX = {"female", "male", "other", "unknown"}


def _text(concept):
    if not isinstance(concept, dict):
        return None
    if concept.get("text"):
        return concept["text"]
    codings = concept.get("coding") or [{}]
    return codings[0].get("display")


def _first(items):
    return items[0] if isinstance(items, list) and items else {}


def ref_id(reference):
    """Return the id in a reference like urn:uuid:X, Patient/X or Patient/X/_history/2."""
    if reference.startswith("urn:uuid:"):
        return reference[9:]
    parts = reference.split("/")
    return parts[1] if len(parts) >= 2 else reference


def patient_row(res, spec, pos):
    """Return a canonical patient from a FHIR Patient."""
    if not res.get("id"):
        raise Reject("missing_field", "Patient.id is empty")
    if not res.get("birthDate"):
        raise Reject("missing_field", "Patient.birthDate is empty")
    birth = parse_instant(res["birthDate"], "birthDate")[1]
    deceased = res.get("deceasedDateTime")
    names = res.get("name") or [{}]
    name = next((n for n in names if n.get("use") == "official"), names[0])
    address = _first(res.get("address"))
    return {
        "source_system": spec["source_system"],
        "source_patient_id": res["id"],
        "given_name": " ".join(name.get("given") or []) or None,
        "family_name": name.get("family"),
        "birth_date": birth,
        "sex": res.get("gender") if res.get("gender") in SEX else "unknown",
        "deceased_date": parse_instant(deceased, "deceasedDateTime")[1] if deceased else None,
        "address": ", ".join(address.get("line") or []) or None,
        "city": address.get("city"),
        "state": address.get("state"),
        "postal_code": address.get("postalCode"),
        "provenance": provenance(spec, pos),
    }


def record_row(res, spec, pos, patient_id):
    """Return a canonical record (cost not yet applied) from an Encounter/Condition/MedRequest."""
    rtype = res["resourceType"]
    if not res.get("id"):
        raise Reject("missing_field", f"{rtype}.id is empty")
    if rtype == "Encounter":
        when = (res.get("period") or {}).get("start")
        field = "period.start"
    elif rtype == "Condition":
        when = res.get("onsetDateTime") or res.get("recordedDate")
        field = "onsetDateTime"
    else:
        when = res.get("authoredOn")
        field = "authoredOn"
    row = new_record(
        spec,
        pos,
        f"{rtype}/{res['id']}",
        patient_id,
        RECORD_TYPES[rtype],
        parse_instant(when, field),
    )
    if rtype == "Encounter":
        row["diagnosis"] = _text(_first(res.get("reasonCode")))
        row["treatment"] = _text(_first(res.get("type")))
        row["notes"] = (res.get("class") or {}).get("code")
    elif rtype == "Condition":
        row["diagnosis"] = _text(res.get("code"))
    else:
        med = res.get("medicationCodeableConcept")
        row["prescription"] = _text(med) or (res.get("medicationReference") or {}).get("display")
        row["notes"] = _first(res.get("dosageInstruction")).get("text")
    return row


def apply_costs(record, facts):
    """Price a record from its Claims, else from its EOBs (never both); cost 0.00 if neither."""
    claims = [f for f in facts if f["via"] == "claim"]
    chosen = claims or [f for f in facts if f["via"] == "eob"]
    if chosen:
        record["cost"] = str(sum((Decimal(f["amount"]) for f in chosen), Decimal("0.00")))
        record["cost_source"] = chosen[0]["via"]
    return record


def _subject(res, index):
    ref = (res.get("subject") or res.get("patient") or {}).get("reference")
    if not ref:
        raise Reject("missing_field", f"{res['resourceType']}.subject is empty")
    if index is not None:
        if ref in index:
            return index[ref][1]
        if ref.startswith("urn:"):
            raise Reject("unresolved_reference", f"subject {ref} not in bundle")
    return ref_id(ref)


def _excerpt(res):
    return json.dumps(res, ensure_ascii=False, default=str)[:200]


def parse_bundle(spec, stream, stats):
    """Yield ("record"|"patient"|"reject"|"skip", row) for a whole FHIR Bundle file."""
    raw = stream.read()
    stats["rows_read"] += 1
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        yield "reject", reject(spec, 0, raw[:200], "bad_utf8", err)
        return
    fast = _fast_bundle(spec, raw)
    if fast is not None:
        entries, outcomes = fast
        stats["rows_read"] += len(entries) - 1
        yield from outcomes
        return
    try:
        doc = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as err:
        yield "reject", reject(spec, err.lineno, text[:200], "malformed_json", err)
        return
    if not isinstance(doc, dict):
        yield "reject", reject(spec, 0, text[:200], "malformed_json", "not a JSON object")
        return
    entries = _entries(doc)
    stats["rows_read"] += len(entries) - 1
    yield from _resolve_bundle(spec, entries)


def _entries(doc):
    if doc.get("resourceType") == "Bundle":
        return [e if isinstance(e, dict) else {} for e in doc.get("entry") or []]
    return [{"resource": doc}]


def _fast_bundle(spec, raw):
    """(entries, outcomes) parsed with orjson, or None where only the exact parse is the same.

    The exact parse (stdlib json, Decimal numbers) is used for any bundle the fast one refuses
    or whose outcome could differ: a reject, an inexact cost, a float in an emitted row.
    """
    doc = fast_loads(raw)
    if not isinstance(doc, dict):
        return None
    entries = _entries(doc)
    try:
        outcomes = list(_resolve_bundle(spec, entries))
    except Exception:  # Inexact, or a float where code expects text: the exact parse decides
        return None
    return (entries, outcomes) if accept(entries, outcomes) else None


def _resolve_bundle(spec, entries):
    index = {}
    for entry in entries:
        res = entry.get("resource")
        if isinstance(res, dict) and res.get("id"):
            key = (res.get("resourceType"), res["id"])
            index[f"{key[0]}/{key[1]}"] = key
            if entry.get("fullUrl"):
                index[entry["fullUrl"]] = key
    pending, facts = {}, []
    for pos, entry in enumerate(entries):
        res = entry.get("resource")
        if not isinstance(res, dict) or not res.get("resourceType"):
            yield "reject", reject(spec, pos, entry, "missing_field", "entry has no resource")
            continue
        rtype = res["resourceType"]
        try:
            if rtype == "Patient":
                yield "patient", patient_row(res, spec, pos)
            elif rtype in RECORD_TYPES:
                row = record_row(res, spec, pos, _subject(res, index))
                pending[(rtype, res["id"])] = row
            elif rtype in COST_TYPES:
                facts.append((pos, res, cost_fact(res, index)))
            elif rtype in REFERENCE_TYPES:
                yield "skip", "reference_data"
            else:
                yield "skip", "unsupported_resource"
        except Reject as err:
            yield "reject", reject(spec, pos, _excerpt(res), err.reason, err.detail)
    by_target = {}
    for pos, res, fact in facts:
        if fact["target"] in pending:
            by_target.setdefault(fact["target"], []).append(fact)
        else:
            detail = f"{res['resourceType']} target {fact['target'][0]}/{fact['target'][1]}"
            yield "reject", reject(spec, pos, _excerpt(res), "unresolved_reference", detail)
    for key, row in pending.items():
        yield "record", apply_costs(row, by_target.get(key, ()))


def parse_ndjson(spec, stream, stats):
    """Yield rows for a FHIR NDJSON stream; priced records and cost facts go out for a join.

    Extra kinds: ("pending", (key, record)) and ("fact", (key, fact)), key = (source, Type/id).
    """
    lines = DecodedLines(stream)
    for line in lines:
        yield from drain_bad(spec, lines, stats)
        pos = lines.lineno
        if not line.strip():
            continue
        stats["rows_read"] += 1
        yield from _parse_line(spec, pos, line)
    yield from drain_bad(spec, lines, stats)


def _parse_line(spec, pos, line):
    res = fast_loads(line)
    if isinstance(res, dict):
        try:
            outcomes = list(_line_outcomes(spec, pos, line, res))
        except Exception:  # Inexact, or a float where code expects text: the exact parse decides
            outcomes = None
        if outcomes is not None and accept([{"resource": res}], outcomes):
            return outcomes
    try:
        res = json.loads(line, parse_float=Decimal)
    except json.JSONDecodeError as err:
        return [("reject", reject(spec, pos, line, "malformed_json", err))]
    return _line_outcomes(spec, pos, line, res)


def _line_outcomes(spec, pos, line, res):
    source = spec["source_system"]
    rtype = res.get("resourceType") if isinstance(res, dict) else None
    try:
        if rtype == "Patient":
            yield "patient", patient_row(res, spec, pos)
        elif rtype in PRICED_TYPES:
            key = (source, f"{rtype}/{res.get('id')}")
            yield "pending", (key, record_row(res, spec, pos, _subject(res, None)))
        elif rtype in RECORD_TYPES:
            yield "record", record_row(res, spec, pos, _subject(res, None))
        elif rtype in COST_TYPES:
            fact = cost_fact(res, None)
            fact["reject"] = reject(spec, pos, line, "unresolved_reference", "")
            yield "fact", ((source, "/".join(fact.pop("target"))), fact)
        elif rtype in REFERENCE_TYPES:
            yield "skip", "reference_data"
        elif rtype is None:
            yield "reject", reject(spec, pos, line, "missing_field", "no resourceType")
        elif rtype in R4_RESOURCE_TYPES:
            yield "skip", "unsupported_resource"
        else:
            yield "reject", reject(spec, pos, line, "unsupported_resource", rtype)
    except Reject as err:
        yield "reject", reject(spec, pos, line, err.reason, err.detail)
