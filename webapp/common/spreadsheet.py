"""CSV output that spreadsheets open as text: no formulas, accented names intact."""

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
# Without a byte order mark Excel reads UTF-8 as the local code page: "Jerónimo" turns to mojibake.
BOM = "\ufeff"
CHUNK_CHARS = 64 * 1024


def safe_cell(value: Any) -> Any:
    """Neutralise text that a spreadsheet would run as a formula; numbers pass unchanged."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_chunks(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Yield a BOM with the header at once, then the rows as CSV text in chunks of ~64 KiB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(value) for value in header])
    yield BOM + _drain(buffer)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
        # One write per chunk, not per row: a 100,000-row export is a few hundred writes.
        if buffer.tell() >= CHUNK_CHARS:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
