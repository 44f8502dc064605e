"""Legacy CSV in blocks: a file is cut at line boundaries so several workers read it, and each
block's rows are checked and turned into records.tsv lines by whole-column Arrow operations.

Rows the vectorised check does not pass as plainly clean (bad widths, dates, costs, ids, odd
whitespace or control characters) go through the row-by-row rules of pipeline.legacy, so every
reject reason and detail is the same. A block that is not plain UTF-8, or whose file holds a
quote character (a quoted field may span lines), is parsed by pipeline.legacy as a whole.
"""

import io
import re

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.arrow_text import join_text, joined_bytes
from pipeline.canonical import Reject, reject
from pipeline.contract import copy_text
from pipeline.legacy import (
    MAX_CENTS,
    WIDTH,
    _excerpt,
    is_header,
    parse_legacy,
    prefixes,
    row_outcome,
    totals_of,
)
from pipeline.stats import merge_totals
from pipeline.totals_tables import block_totals

# Bytes per block: big enough to amortise Arrow's per-call cost, small enough to spread a file.
BLOCK_BYTES = 8 * 1024 * 1024
FIELD_LIMIT = 131072  # csv.field_size_limit(): longer fields are malformed_csv, row by row
CLEAN_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
CLEAN_COST = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
CONTROL = r"[\x00-\x1f]"


def plan_blocks(stream, block_bytes=None):
    """Cut one file into blocks that end at a newline; return [(start, end or None, first_line)].

    One serial pass counting newlines (memory-bandwidth fast). A file holding a quote
    character is one block: a quoted field may contain a newline.
    """
    block_bytes = block_bytes or BLOCK_BYTES
    blocks, start, first, lines, consumed = [], 0, 1, 0, 0
    while chunk := stream.read(block_bytes):
        if b'"' in chunk:
            return [(0, None, 1)]
        lines += chunk.count(b"\n")
        consumed += len(chunk)
        last = chunk.rfind(b"\n")
        if consumed - start >= block_bytes and last >= 0:
            end = consumed - len(chunk) + last + 1
            blocks.append((start, end, first))
            start, first, lines = end, first + lines, 0
    if consumed > start or not blocks:
        blocks.append((start, None, first))
    return blocks


def read_block(stream, start, end):
    """The bytes of one block of an open file."""
    stream.seek(start)
    return stream.read() if end is None else stream.read(end - start)


def parse_block(spec, data, first_line, stats):
    """Yield parse_legacy's outcomes for one block: "batch", "reject" and "totals" pairs."""
    text = _plain_text(data, first_line)
    if text is None:
        yield from parse_legacy(spec, io.BytesIO(data), stats, first_line)
        return
    lines = pc.list_flatten(pc.split_pattern(pa.array([text], pa.large_string()), "\n"))
    if len(lines) and pc.max(pc.utf8_length(lines)).as_py() > FIELD_LIMIT:
        yield from parse_legacy(spec, io.BytesIO(data), stats, first_line)
        return
    keep = pc.greater(pc.utf8_length(lines), 0)
    if first_line == 1 and len(lines) and is_header(lines[0].as_py().split(",")):
        keep = pa.concat_arrays([pa.array([False]), keep[1:]])
    # The kept lines' numbers, straight from the mask (a Python range cost 13 ms a block).
    positions = pc.add(pc.indices_nonzero(keep).cast(pa.int64()), first_line)
    lines = lines.filter(keep)
    stats["rows_read"] += len(lines)
    fields = pc.split_pattern(lines, ",")
    clean = pc.equal(pc.list_value_length(fields), WIDTH)
    if re.search(CONTROL, text):
        clean = pc.and_(clean, pc.invert(pc.match_substring_regex(lines, CONTROL)))
    wide = fields.filter(clean)
    columns = [pc.list_flatten(wide)[k::WIDTH] for k in range(WIDTH)]
    checks = _column_checks(columns)
    # Spread the checks (one per clean row) back over all rows.
    ok = pc.replace_with_mask(clean, clean, checks)
    table = _records(spec, [c.filter(checks) for c in columns], positions.filter(ok))
    slow = pc.invert(ok)
    slow_rows = zip(positions.filter(slow).to_pylist(), lines.filter(slow).to_pylist(), strict=True)
    yield from _emit(spec, table, slow_rows, stats)


def _plain_text(data, first_line):
    """The block as text when the fast path may read it, else None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if first_line == 1 and text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None  # a lone CR ends a row for the csv module
    return None if '"' in text else text


def _column_checks(columns):
    """True where a width-10 row is plainly valid: the rules need no row-by-row look."""
    rid, pid, day, cost = columns[0], columns[1], columns[2], columns[6]
    parsed = pc.strptime(day, format="%Y-%m-%d", unit="s", error_is_null=True)
    shaped = pc.match_substring_regex(day, CLEAN_DAY)
    stated_day = pc.utf8_slice_codeunits(pc.if_else(shaped, day, "0000-00-00"), 8, 10)
    checks = [
        # ASCII ids without surrounding whitespace: Python's strip() would change nothing.
        pc.and_(pc.string_is_ascii(rid), pc.equal(pc.utf8_trim_whitespace(rid), rid)),
        pc.greater(pc.utf8_length(rid), 0),
        pc.and_(pc.string_is_ascii(pid), pc.utf8_is_decimal(pid)),
        pc.less_equal(pc.utf8_length(pid), 18),
        shaped,
        # strptime rolls 2025-02-30 over to March: the day must survive the round trip.
        pc.fill_null(pc.equal(pc.day(parsed), pc.cast(stated_day, pa.int64())), False),
        pc.match_substring_regex(cost, CLEAN_COST),
    ]
    ok = checks[0]
    for check in checks[1:]:
        ok = pc.and_(ok, check)
    cents = _cents(pc.if_else(ok, cost, "0"))
    return pc.and_(ok, pc.less_equal(cents, MAX_CENTS))


def _cents(cost):
    return pc.cast(pc.multiply(pc.cast(cost, pa.decimal128(14, 2)), 100), pa.int64())


def _esc(column):
    """COPY text fields of a column free of control characters: only backslashes to escape."""
    return pc.replace_substring(column, "\\", "\\\\")


def _records(spec, columns, positions):
    """A table of the clean rows: records.tsv line, patient id, month, cents."""
    source, relpath, prov = prefixes(spec)
    rid = pc.utf8_trim_whitespace(columns[0])
    pid = pc.cast(pc.cast(columns[1], pa.int64()), pa.string())
    day, month = columns[2], pc.utf8_slice_codeunits(columns[2], 0, 7)
    cost = pc.cast(columns[6], pa.decimal128(14, 2))
    # One tab-separated join of 16 fields: a join of 22 parts with the tabs as parts of their
    # own took half as long again.
    line = join_text(
        source,
        join_text(copy_text(relpath + "#"), _esc(rid)),
        pid, "\\N", "encounter", "\\N", day, month,
        _esc(columns[3]), _esc(columns[4]), _esc(columns[5]),
        pc.cast(cost, pa.string()), "source", _esc(columns[7]), prov,
        join_text(pc.cast(positions, pa.string()), "\n"),
        separator="\t",
    )  # fmt: skip
    return {
        "line": line,
        "pos": positions,
        "pid": pc.cast(columns[1], pa.int64()),
        "month": month,
        "cents": _cents(columns[6]),
    }


def _emit(spec, table, slow_rows, stats):
    """Check the other rows one by one, then yield the block's batch (in file order) and totals."""
    prefix, extra, slow_totals = prefixes(spec), {}, {}
    for pos, line in slow_rows:
        row = line.split(",")
        try:
            out, key, cents = row_outcome(spec, row, pos, prefix)
        except Reject as err:
            yield "reject", reject(spec, pos, _excerpt(row), err.reason, err.detail)
            continue
        extra[pos] = out + "\n"
        merge_totals(slow_totals, {key: [cents, 1]})
    sums = block_totals(spec["source_system"], table["pid"], table["month"], table["cents"])
    count = len(table["line"]) + len(extra)
    if extra:
        fast = zip(table["pos"].to_pylist(), table["line"].to_pylist(), strict=True)
        merged = sorted([*fast, *extra.items()])
        data = "".join(line for _, line in merged).encode("utf-8")
    else:
        data = joined_bytes(table["line"])
    stats["records"] += count
    if count:
        yield "batch", (data, count)
    yield "totals_table", sums
    if slow_totals:
        yield "totals", totals_of(spec, slow_totals)
