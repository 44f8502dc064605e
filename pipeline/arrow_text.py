"""Building text a whole column at a time with Arrow: row-wise joins and the bytes they make."""

import pyarrow as pa
import pyarrow.compute as pc


def join_text(*parts, separator=""):
    """Concatenate string columns and constants row by row (as large strings)."""
    text = pa.large_string()
    return pc.binary_join_element_wise(
        *(pa.scalar(p, text) if isinstance(p, str) else p.cast(text) for p in parts),
        pa.scalar(separator, text),
    )


def joined_bytes(lines):
    """The UTF-8 bytes of a string array's values, back to back (each ends with a newline)."""
    lines = lines.cast(pa.large_string())
    if not len(lines):
        return b""
    offsets = lines.buffers()[1]
    first = pa.Array.from_buffers(pa.int64(), len(lines) + 1, [None, offsets], offset=lines.offset)
    start, end = first[0].as_py(), first[len(lines)].as_py()
    return lines.buffers()[2].slice(start, end - start).to_pybytes()
