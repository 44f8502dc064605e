"""Parser for the original platform's medical-record CSV export (header optional).

This is the hot path for big exports, so it works in batches: it yields ("batch", lines) of
ready-to-write records.tsv lines, ("reject", row) for bad rows and one ("totals", {key: [cents, n]})
per flush, instead of one dict per record.
"""

import csv
import io
from datetime import date

from pipeline.canonical import LEGACY_COLUMNS, MAX_COST, Reject, cents_of, parse_cost, reject
from pipeline.contract import copy_text, money, month_of

WIDTH = len(LEGACY_COLUMNS)
BATCH = 2000
MAX_CENTS = cents_of(MAX_COST)


def _cents(raw):
    """Exact cents of a cost: plain "123.45" amounts by string ops, anything else via Decimal."""
    whole, dot, frac = raw.partition(".")
    plain_frac = not dot or (frac.isdecimal() and len(frac) <= 2)
    if not (whole.isdecimal() and len(whole) <= 12 and plain_frac):
        return cents_of(parse_cost(raw))
    value = int(whole) * 100 + (int(frac) * (10 if len(frac) == 1 else 1) if frac else 0)
    if value > MAX_CENTS:
        raise Reject("absurd_cost", f"cost={raw.strip()} > {MAX_COST}")
    return value


def _day(raw):
    if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
        try:
            date.fromisoformat(raw)
            return raw
        except ValueError:
            pass
    text = raw.strip()
    if not text:
        raise Reject("missing_field", "record_date is empty")
    try:
        if len(text) != 10 or text[4] != "-" or text[7] != "-":
            raise ValueError
        date.fromisoformat(text)
    except ValueError:
        raise Reject("bad_date", f"record_date={text[:40]!r}") from None
    return text


def _excerpt(row):
    text = ",".join(row)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def row_outcome(spec, row, pos, prefix):
    """Check one legacy row: return (records.tsv line, (pid, month), cents), or raise Reject.

    `prefix` is prefixes(spec); the returned line is the record exactly as records.tsv has it.
    """
    if len(row) != WIDTH:
        raise Reject("wrong_column_count", f"{len(row)} columns, expected {WIDTH}")
    rid, pid = row[0].strip(), row[1].strip()
    if not rid:
        raise Reject("missing_field", "id is empty")
    if not pid:
        raise Reject("missing_field", "patient_id is empty")
    if not pid.isdecimal():
        raise Reject("bad_id", f"patient_id={pid[:40]!r}")
    day = _day(row[2])
    cents = _cents(row[6])
    pid = int(pid)
    month = month_of(day)
    source, relpath, prov = prefix
    line = (
        f"{source}\t{copy_text(relpath + '#' + rid)}\t{pid}\t\\N\tencounter\t\\N\t{day}\t{month}\t"
        f"{copy_text(row[3])}\t{copy_text(row[4])}\t{copy_text(row[5])}\t{money(cents)}\tsource\t"
        f"{copy_text(row[7])}\t{prov}\t{pos}"
    )
    return line, (pid, month), cents


def prefixes(spec):
    """The constant fields of a file's records.tsv lines: (source system, relpath, provenance).

    Source system and provenance (file and generation, tab-separated) come in COPY text format.
    """
    prov = f"{copy_text(spec['uri'])}\t{copy_text(spec['generation'])}"
    return copy_text(spec["source_system"]), spec["relpath"], prov


def is_header(row):
    """Whether a first row is the legacy header."""
    return tuple(c.strip().lower() for c in row) == LEGACY_COLUMNS


def parse_legacy(spec, stream, stats, first_line=1):
    """Yield ("batch", [json_line]), ("totals", {...}) and ("reject", row) for a legacy CSV.

    `stream` may be a block of a file that starts at physical line `first_line`.
    """
    # surrogateescape keeps bad bytes visible as lone surrogates; a batch that then fails to
    # encode is split and its bad lines become bad_utf8 rejects.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(text)
    prefix = prefixes(spec)
    batch, keys, partial = [], [], {}
    base = end = first_line - 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            stats["rows_read"] += 1
            yield "reject", reject(spec, base + reader.line_num, "", "malformed_csv", err)
            end = base + reader.line_num
            continue
        pos, end = end + 1, base + reader.line_num
        if not row or (pos == 1 and is_header(row)):
            continue
        stats["rows_read"] += 1
        try:
            line, key, cents = row_outcome(spec, row, pos, prefix)
        except Reject as err:
            yield "reject", reject(spec, pos, _excerpt(row), err.reason, err.detail)
            continue
        acc = partial.get(key)
        if acc is None:
            partial[key] = [cents, 1]
        else:
            acc[0] += cents
            acc[1] += 1
        batch.append(line)
        keys.append((key, cents, pos, row))
        if len(batch) >= BATCH:
            yield from _flush(spec, batch, keys, partial, stats)
            batch, keys = [], []
    yield from _flush(spec, batch, keys, partial, stats)
    yield "totals", totals_of(spec, partial)


def totals_of(spec, partial):
    """{(pid, month): [cents, n]} -> the pipeline's totals keys for this file's source."""
    source = spec["source_system"]
    return {(source, _patient(pid), month): v for (pid, month), v in partial.items()}


def _patient(pid):
    return f'{{"platform_patient_id":{pid}}}'


def _flush(spec, batch, keys, partial, stats):
    """Yield the batch as UTF-8 bytes; lines holding undecodable input become bad_utf8 rejects."""
    if not batch:
        return
    try:
        data = ("\n".join(batch) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        good = []
        for line, (key, cents, pos, row) in zip(batch, keys, strict=True):
            try:
                good.append(line.encode("utf-8"))
            except UnicodeEncodeError as err:
                acc = partial[key]
                acc[0] -= cents
                acc[1] -= 1
                if not acc[1]:
                    del partial[key]
                yield "reject", reject(spec, pos, _excerpt(row), "bad_utf8", err)
        data = b"".join(line + b"\n" for line in good)
        batch = good
    stats["records"] += len(batch)
    yield "batch", (data, len(batch))
