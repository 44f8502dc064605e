"""Streaming line readers and per-file format detection."""

import csv
import io

from apache_beam.io.filesystems import FileSystems

from pipeline.canonical import LEGACY_COLUMNS, reject

# Synthea CSV files we load, and the columns that identify each one by its header.
SYNTHEA_REQUIRED = {
    "patients": {"Id", "BIRTHDATE", "FIRST", "LAST", "GENDER"},
    "encounters": {"Id", "START", "PATIENT", "ENCOUNTERCLASS", "TOTAL_CLAIM_COST"},
    "medications": {"START", "PATIENT", "ENCOUNTER", "CODE", "DESCRIPTION", "TOTALCOST"},
    "conditions": {"START", "PATIENT", "ENCOUNTER", "CODE", "DESCRIPTION"},
}
# Synthea reference data: read and counted as skipped, never rejected.
SYNTHEA_REFERENCE = {
    "organizations": {"Id", "NAME", "REVENUE"},
    "providers": {"Id", "ORGANIZATION", "SPECIALITY"},
    "payers": {"Id", "NAME", "AMOUNT_COVERED"},
}
# The other tables of a complete Synthea CSV export (18 with the ones above), recognised by
# name and skipped row by row: valid data this platform does not store. Each names its patient
# column, and claims/claims_transactions call it PATIENTID.
SYNTHEA_OTHER = {
    "allergies": "PATIENT",
    "careplans": "PATIENT",
    "claims": "PATIENTID",
    "claims_transactions": "PATIENTID",
    "devices": "PATIENT",
    "imaging_studies": "PATIENT",
    "immunizations": "PATIENT",
    "observations": "PATIENT",
    "procedures": "PATIENT",
    "supplies": "PATIENT",
    "payer_transitions": "PATIENT",
}
SNIFF_BYTES = 65536


class DecodedLines:
    """Iterate a binary stream as UTF-8 text lines, setting bad lines aside instead of failing.

    csv.reader pulls lines from this object, so quoted fields spanning lines still work; `start`
    is the physical line (1-based) where the most recent row began.
    """

    def __init__(self, stream):
        self._stream = stream
        self.lineno = 0
        self.start = 0
        self.mark = True
        self.bad = []

    def __iter__(self):
        readline = self._stream.readline
        while True:
            raw = readline()
            if not raw:
                return
            self.lineno += 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                self.bad.append((self.lineno, raw, str(err)))
                continue
            if self.lineno == 1 and text.startswith("\ufeff"):
                text = text[1:]
            if self.mark:
                self.start = self.lineno
                self.mark = False
            yield text


def drain_bad(spec, lines, stats):
    """Yield a bad_utf8 reject for each line set aside by DecodedLines, then forget them."""
    for lineno, raw, err in lines.bad:
        stats["rows_read"] += 1
        yield "reject", reject(spec, lineno, raw, "bad_utf8", err)
    lines.bad.clear()


def open_binary(uri):
    """Open a local or gs:// file for binary streaming reads."""
    return FileSystems.open(uri)


def sniff(uri):
    """Return the first bytes of a file, for format detection."""
    with open_binary(uri) as handle:
        return handle.read(SNIFF_BYTES)


def _header_of(head):
    # Parse a whole first record: a quoted field may span lines.
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    try:
        return next(csv.reader(io.StringIO(text)), [])
    except csv.Error:
        return []


def detect_format(uri, head):
    """Return the format name of a file from its name and first bytes.

    One of: legacy_csv, synthea_<kind>, synthea_reference, synthea_other, fhir_bundle,
    fhir_ndjson, unknown.
    """
    name = uri.rsplit("/", 1)[-1].lower()
    stem = name.split(".", 1)[0]
    if name.endswith((".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz")):
        return "fhir_ndjson"
    if name.endswith((".json", ".json.gz")):
        return "fhir_bundle"
    if head.lstrip()[:1] == b"{":
        return "fhir_ndjson"
    header = [c.strip() for c in _header_of(head)]
    columns = set(header)
    if tuple(c.lower() for c in header) == LEGACY_COLUMNS:
        return "legacy_csv"
    for kinds, fmt in ((SYNTHEA_REQUIRED, None), (SYNTHEA_REFERENCE, "synthea_reference")):
        if stem in kinds and kinds[stem] <= columns:
            return fmt or f"synthea_{stem}"
    if SYNTHEA_OTHER.get(stem) in columns:
        return "synthea_other"
    for kind, required in SYNTHEA_REQUIRED.items():
        if required <= columns:
            return f"synthea_{kind}"
    # A headerless legacy export starts straight with a numeric id and has the legacy width.
    if len(header) == len(LEGACY_COLUMNS) and header[0].isdigit():
        return "legacy_csv"
    return "unknown"
