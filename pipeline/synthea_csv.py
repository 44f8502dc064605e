"""Parser for Synthea's CSV export: patients, encounters, medications and conditions."""

import csv

from pipeline.canonical import (
    Reject,
    new_record,
    parse_cost,
    parse_day,
    parse_instant,
    provenance,
    reject,
)
from pipeline.readers import DecodedLines, drain_bad

SEX = {"F": "female", "M": "male", "female": "female", "male": "male", "other": "other"}


def _patient(get, spec, pos):
    pid = get("Id")
    if not pid:
        raise Reject("missing_field", "Id is empty")
    birth, _ = parse_day(get("BIRTHDATE"), "BIRTHDATE")
    death = get("DEATHDATE")
    return {
        "source_system": spec["source_system"],
        "source_patient_id": pid,
        "given_name": get("FIRST"),
        "family_name": get("LAST"),
        "birth_date": birth,
        "sex": SEX.get(get("GENDER"), "unknown"),
        "deceased_date": parse_day(death, "DEATHDATE")[0] if death else None,
        "address": get("ADDRESS"),
        "city": get("CITY"),
        "state": get("STATE"),
        "postal_code": get("ZIP"),
        "provenance": provenance(spec, pos),
    }


def _record(kind, get, spec, pos):
    patient = get("PATIENT")
    if not patient:
        raise Reject("missing_field", "PATIENT is empty")
    rid = f"{spec['relpath']}#{get('Id')}" if kind == "encounters" else f"{spec['relpath']}#L{pos}"
    kind_name = kind[:-1] if kind != "medications" else "medication"
    row = new_record(spec, pos, rid, patient, kind_name, parse_instant(get("START"), "START"))
    row["diagnosis"] = get("REASONDESCRIPTION")
    if kind == "encounters":
        if not get("Id"):
            raise Reject("missing_field", "Id is empty")
        row.update(treatment=get("DESCRIPTION"), notes=get("ENCOUNTERCLASS"))
        row.update(cost=str(parse_cost(get("TOTAL_CLAIM_COST"), "TOTAL_CLAIM_COST")))
        row["cost_source"] = "source"
    elif kind == "medications":
        row.update(prescription=get("DESCRIPTION"))
        row.update(cost=str(parse_cost(get("TOTALCOST"), "TOTALCOST")), cost_source="source")
    else:
        row.update(diagnosis=get("DESCRIPTION"))
    return row


def parse_synthea(spec, stream, stats, kind):
    """Yield ("record"|"patient"|"reject"|"skip", row) for one Synthea CSV file of `kind`."""
    lines = DecodedLines(stream)
    reader = csv.reader(lines)
    header = None
    while True:
        lines.mark = True
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            yield from drain_bad(spec, lines, stats)
            stats["rows_read"] += 1
            yield "reject", reject(spec, lines.lineno, "", "malformed_csv", err)
            continue
        if lines.bad:
            yield from drain_bad(spec, lines, stats)
        if not row:
            continue
        if header is None:
            header = {name.strip(): i for i, name in enumerate(row)}
            width = len(row)
            continue
        stats["rows_read"] += 1
        pos = lines.start
        if kind in ("reference", "other"):
            yield "skip", "reference_data" if kind == "reference" else "unsupported_file_row"
            continue
        if len(row) != width:
            detail = f"{len(row)} columns, expected {width}"
            yield "reject", reject(spec, pos, ",".join(row), "wrong_column_count", detail)
            continue

        def get(name, row=row, header=header):
            i = header.get(name)
            return row[i].strip() if i is not None else ""

        try:
            if kind == "patients":
                yield "patient", _patient(get, spec, pos)
            else:
                yield "record", _record(kind, get, spec, pos)
        except Reject as err:
            yield "reject", reject(spec, pos, ",".join(row), err.reason, err.detail)
    yield from drain_bad(spec, lines, stats)
