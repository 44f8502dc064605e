"""The pipeline's output contract: what a run writes, and all a loader may rely on.

pipeline/README.md ("Outputs") documents each name here. The app's loader imports this module
(it imports neither Beam nor anything else), so both sides read and write the same names.
"""

import re
import secrets
from datetime import UTC, datetime
from json.encoder import encode_basestring

# The four output files, keyed by the tag the pipeline writes them under. Records, the big one,
# are in PostgreSQL's COPY text format (RECORD_COLUMNS) so the loader COPYs them as they are.
PATIENTS_FILE = "patients.ndjson"
RECORDS_FILE = "records.tsv"
REJECTS_FILE = "rejects.ndjson"
TOTALS_FILE = "totals.ndjson"
OUTPUT_FILES = {
    "patients": PATIENTS_FILE,
    "records": RECORDS_FILE,
    "rejects": REJECTS_FILE,
    "totals": TOTALS_FILE,
}

# Written last: the other files are complete once it exists.
SUCCESS = "_SUCCESS"
MANIFEST_VERSION = 1
MANIFEST_FIELDS = (
    "manifest_version", "run_id", "created_at", "output", "counts", "line_counts", "inputs",
    "outputs",
)  # fmt: skip
MANIFEST_COUNTS = (
    "files", "rows_read", "records", "patients", "totals", "rejected", "rejected_by_reason",
    "skipped",
)  # fmt: skip
MANIFEST_INPUT_FIELDS = (
    "uri", "source_system", "relpath", "format", "generation", "rows_read", "records",
    "patients", "rejected", "skipped",
)  # fmt: skip

# One line of each output file carries exactly these fields.
PROVENANCE_FIELDS = ("file", "generation", "position")
PATIENT_FIELDS = (
    "source_system", "source_patient_id", "given_name", "family_name", "birth_date", "sex",
    "deceased_date", "address", "city", "state", "postal_code", "provenance",
)  # fmt: skip
RECORD_FIELDS = (
    "source_system", "source_record_id", "patient", "kind", "recorded_at", "record_date",
    "month", "diagnosis", "treatment", "prescription", "cost", "cost_source", "notes",
    "provenance",
)  # fmt: skip
# records.tsv: one line per record, these columns tab-separated (the RECORD_FIELDS flattened),
# \N for null, backslash, tab, newline and carriage return escaped; no header line.
RECORD_COLUMNS = (
    "source_system", "source_record_id", "platform_patient_id", "source_patient_id", "kind",
    "recorded_at", "record_date", "month", "diagnosis", "treatment", "prescription", "cost",
    "cost_source", "notes", "file", "generation", "position",
)  # fmt: skip
REJECT_FIELDS = ("source_system", "file", "position", "excerpt", "reason", "detail")
TOTALS_FIELDS = ("source_system", "patient", "month", "total_cost", "record_count")

# A record's `patient` holds exactly one of these.
PLATFORM_PATIENT_ID = "platform_patient_id"
SOURCE_PATIENT_ID = "source_patient_id"

COPY_NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_UNESCAPE = re.compile(r"\\(.)")
_UNESCAPED = {"t": "\t", "n": "\n", "r": "\r"}

RUN_ID_PATTERN = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}")


def new_run_id() -> str:
    """A sortable, unique run id: UTC timestamp plus randomness (matches RUN_ID_PATTERN)."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(4)


def temp_folder(output: str, run_id: str) -> str:
    """<output>/_tmp-<run_id>: the run's scratch folder, removed once _SUCCESS is written."""
    return "/".join([output, f"_tmp-{run_id}"])


def patient_key(record: dict) -> str:
    """The record's patient as deterministic compact JSON: the pipeline's totals key."""
    patient = record["patient"]
    if PLATFORM_PATIENT_ID in patient:
        return f'{{"{PLATFORM_PATIENT_ID}":{int(patient[PLATFORM_PATIENT_ID])}}}'
    return f'{{"{SOURCE_PATIENT_ID}":{encode_basestring(patient[SOURCE_PATIENT_ID])}}}'


def patient_ref(patient: dict) -> str:
    """The patient's id as text, whichever kind it is: the loader's totals key."""
    return str(patient.get(PLATFORM_PATIENT_ID, patient.get(SOURCE_PATIENT_ID)))


def month_of(day: str) -> str:
    """YYYY-MM of a YYYY-MM-DD date as the source recorded it (never converted to UTC)."""
    return day[:7]


def cents(money: str) -> int:
    """Exact integer cents of a money string such as "123.45" (never through a float)."""
    whole, _, frac = money.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def money(cents_: int) -> str:
    """Integer cents as a money string with exactly two decimals: 12345 -> "123.45"."""
    return f"{cents_ // 100}.{cents_ % 100:02d}"


def copy_text(value) -> str:
    """One field in COPY text format: \\N for None, else the text with its escapes."""
    return COPY_NULL if value is None else str(value).translate(_COPY_ESCAPES)


def record_line(record: dict) -> str:
    """A canonical record as one records.tsv line (no newline).

    A lone surrogate (from a JSON "\\udc80" escape) cannot be UTF-8: it is kept as that text.
    """
    patient, provenance = record["patient"], record["provenance"]
    values = (
        record["source_system"], record["source_record_id"], patient.get(PLATFORM_PATIENT_ID),
        patient.get(SOURCE_PATIENT_ID), record["kind"], record["recorded_at"],
        record["record_date"], record["month"], record["diagnosis"], record["treatment"],
        record["prescription"], record["cost"], record["cost_source"], record["notes"],
        provenance["file"], provenance["generation"], provenance["position"],
    )  # fmt: skip
    line = "\t".join(map(copy_text, values))
    if not line.isascii():
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:
            line = "\t".join(copy_text(_visible(value)) for value in values)
    return line


def _visible(value):
    if not isinstance(value, str):
        return value
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _field(text: str) -> str | None:
    if text == COPY_NULL:
        return None
    return _COPY_UNESCAPE.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(1)), text)


def record_from_line(line: str) -> dict:
    """The canonical record (RECORD_FIELDS, nested as before) of one records.tsv line."""
    values = dict(zip(RECORD_COLUMNS, map(_field, line.rstrip("\n").split("\t")), strict=True))
    platform = values.pop(PLATFORM_PATIENT_ID)
    source = values.pop(SOURCE_PATIENT_ID)
    patient = {PLATFORM_PATIENT_ID: int(platform)} if platform is not None else {}
    if source is not None:
        patient[SOURCE_PATIENT_ID] = source
    provenance = {
        "file": values.pop("file"),
        "generation": values.pop("generation"),
        "position": int(values.pop("position")),
    }
    record = {**values, "patient": patient, "provenance": provenance}
    return {name: record[name] for name in RECORD_FIELDS}
