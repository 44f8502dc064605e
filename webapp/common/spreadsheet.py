"""CSV output that spreadsheets open as text: no formulas, accented names intact."""

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
# Without a byte order mark Excel reads UTF-8 as the local code page: "Jerónimo" turns to mojibake.
BOM = "\ufeff"


def safe_cell(value: Any) -> Any:
    """Neutralise text that a spreadsheet would run as a formula; numbers pass unchanged."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Yield a BOM, the header and each row as CSV text, one line at a time."""
    yield BOM
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in _with_header(header, rows):
        writer.writerow([safe_cell(value) for value in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _with_header(header, rows):
    yield list(header)
    yield from rows
