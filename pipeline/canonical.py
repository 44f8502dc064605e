"""Canonical record shapes, reject reason codes and the cost/date parsing shared by parsers."""

import json
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from pipeline.contract import month_of

# The old platform's export columns, in order (the header line is optional).
LEGACY_COLUMNS = (
    "id",
    "patient_id",
    "record_date",
    "diagnosis",
    "treatment",
    "prescription",
    "cost",
    "notes",
    "created_time",
    "updated_time",
)

# Every reject carries exactly one of these codes; README.md documents each one.
REASONS = (
    "wrong_column_count",
    "malformed_csv",
    "bad_date",
    "bad_cost",
    "negative_cost",
    "absurd_cost",
    "missing_field",
    "bad_id",
    "malformed_json",
    "bad_utf8",
    "unsupported_resource",
    "unknown_format",
    "unresolved_reference",
    "read_error",
)

# A single medical record above this is a data error, not a real bill.
MAX_COST = Decimal("1000000.00")
CENT = Decimal("0.01")
EXCERPT_LEN = 200


class Reject(Exception):
    """A record that cannot be loaded; carries a reason code and a human detail."""

    def __init__(self, reason, detail=""):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def parse_cost(raw, field="cost"):
    """Return a 2-place Decimal for a source cost, or raise Reject."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise Reject("missing_field", f"{field} is empty")
    if isinstance(raw, bool):
        raise Reject("bad_cost", f"{field}={raw!r}")
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except InvalidOperation:
        raise Reject("bad_cost", f"{field}={str(raw)[:40]!r}") from None
    if not value.is_finite():
        raise Reject("bad_cost", f"{field}={raw!r}")
    if value < 0:
        raise Reject("negative_cost", f"{field}={value}")
    if value > MAX_COST:
        raise Reject("absurd_cost", f"{field}={value} > {MAX_COST}")
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def cents_of(amount):
    """Return a 2-place Decimal as exact integer cents."""
    return int(amount.scaleb(2))


def parse_day(raw, field):
    """Return (record_date, month) from a YYYY-MM-DD source date, or raise Reject."""
    if not raw:
        raise Reject("missing_field", f"{field} is empty")
    try:
        day = date.fromisoformat(raw.strip())
    except (ValueError, TypeError):
        raise Reject("bad_date", f"{field}={str(raw)[:40]!r}") from None
    text = day.isoformat()
    return text, month_of(text)


def parse_instant(raw, field):
    """Return (recorded_at, record_date, month) in the source's own UTC offset, or raise Reject.

    The month is taken from the wall-clock date the source recorded, never converted to UTC:
    2021-08-31T20:00:00-07:00 belongs to 2021-08.
    """
    if not raw:
        raise Reject("missing_field", f"{field} is empty")
    if not isinstance(raw, str):
        raise Reject("bad_date", f"{field}={raw!r}")
    if len(raw) == 10:
        day, month = parse_day(raw, field)
        return None, day, month
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise Reject("bad_date", f"{field}={raw[:40]!r}") from None
    day = moment.date().isoformat()
    recorded_at = moment.isoformat() if moment.tzinfo is not None else None
    return recorded_at, day, month_of(day)


def new_record(spec, pos, record_id, patient_id, kind, when):
    """A canonical record with no text and no cost yet; `when` is (recorded_at, date, month)."""
    recorded_at, record_date, month = when
    return {
        "source_system": spec["source_system"],
        "source_record_id": record_id,
        "patient": {"source_patient_id": patient_id},
        "kind": kind,
        "recorded_at": recorded_at,
        "record_date": record_date,
        "month": month,
        "diagnosis": None,
        "treatment": None,
        "prescription": None,
        "cost": "0.00",
        "cost_source": "none",
        "notes": None,
        "provenance": provenance(spec, pos),
    }


def provenance(spec, position):
    """Return the provenance object for one input position."""
    return {"file": spec["uri"], "generation": spec["generation"], "position": position}


def reject(spec, position, excerpt, reason, detail=""):
    """Return a dead-letter row."""
    if isinstance(excerpt, bytes):
        excerpt = excerpt.decode("utf-8", errors="backslashreplace")
    elif not isinstance(excerpt, str):
        excerpt = json.dumps(excerpt, ensure_ascii=False, default=str)
    excerpt = excerpt.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return {
        "source_system": spec["source_system"],
        "file": spec["uri"],
        "position": position,
        "excerpt": excerpt[:EXCERPT_LEN],
        "reason": reason,
        "detail": str(detail)[:EXCERPT_LEN],
    }


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def dumps(row):
    """Serialize one output row as a compact JSON line (UTF-8 text, no ASCII escaping)."""
    return _ENCODER.encode(row)


def encode_lines(lines):
    """Encode JSON lines as UTF-8 bytes, one per line.

    A lone surrogate (e.g. from a JSON "\\udc80" escape) cannot be UTF-8; such a line is
    re-serialized with ASCII escapes, which keeps the data and stays valid JSON.
    """
    try:
        return ("\n".join(lines) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        out = []
        for line in lines:
            try:
                out.append(line.encode("utf-8"))
            except UnicodeEncodeError:
                out.append(json.dumps(json.loads(line), separators=(",", ":")).encode("ascii"))
        return b"".join(line + b"\n" for line in out)
