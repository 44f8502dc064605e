"""Control totals as Arrow tables: summed with group_by, written as totals.ndjson lines.

A table has one row per (source, patient, month) key with its cents and record count; the
patient is the key's compact JSON (contract.patient_key). A block of ~100,000 legacy rows holds
nearly as many keys as rows when patients are many, so totals kept as Python dicts cost as much
as the parse; as tables they are summed and formatted a column at a time.
"""

from json.encoder import encode_basestring

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.arrow_text import join_text, joined_bytes

KEYS = ["source", "patient", "month"]
SCHEMA = pa.schema(
    [("source", pa.string()), ("patient", pa.string()), ("month", pa.string()),
     ("cents", pa.int64()), ("count", pa.int64())]
)  # fmt: skip
LINES_PER_BATCH = 50_000


def block_totals(source, platform_ids, month, cents):
    """One legacy block's totals from its records' platform patient ids, months and cents."""
    # Grouped on the integer id and the dictionary-encoded month, not on the patient's JSON
    # key: hashing ~100,000 strings per block cost eight times as much. The JSON key is built
    # once per group afterwards.
    table = pa.table(
        {"patient": platform_ids, "month": pc.dictionary_encode(month), "cents": cents}
    )
    sums = table.group_by(["patient", "month"], use_threads=False).aggregate(
        [("cents", "sum"), ("cents", "count")]
    )
    columns = [
        pa.array([source] * len(sums), pa.string()),
        join_text('{"platform_patient_id":', sums["patient"].cast(pa.string()), "}").cast(
            pa.string()
        ),
        sums["month"].cast(pa.string()),
        sums["cents_sum"].cast(pa.int64()),
        sums["cents_count"].cast(pa.int64()),
    ]
    return pa.Table.from_arrays(columns, schema=SCHEMA)


def from_map(partial):
    """A {(source, patient, month): [cents, count]} map as a totals table."""
    keys, values = list(partial), list(partial.values())
    columns = [[key[i] for key in keys] for i in range(3)]
    columns += [[value[i] for value in values] for i in range(2)]
    arrays = [pa.array(c, f.type) for c, f in zip(columns, SCHEMA, strict=True)]
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def compact(tables):
    """The tables summed into one, a row per key."""
    tables = [t for t in tables if len(t)]
    if not tables:
        return SCHEMA.empty_table()
    if len(tables) == 1:
        return tables[0]
    sums = (
        pa.concat_tables(tables)
        .group_by(KEYS, use_threads=False)
        .aggregate([("cents", "sum"), ("count", "sum")])
    )
    columns = [sums[k] for k in KEYS] + [sums["cents_sum"], sums["count_sum"]]
    return pa.Table.from_arrays(columns, schema=SCHEMA)


def _sort_key(table):
    """One int64 per row that orders rows as sorting by the KEYS columns would."""
    key = None
    for name in KEYS:
        encoded = pc.dictionary_encode(table[name].combine_chunks())
        ranks = pc.rank(encoded.dictionary, sort_keys="ascending", tiebreaker="first")
        codes = pc.take(ranks, encoded.indices).cast(pa.int64())
        radix = len(encoded.dictionary) + 1  # checked: a key space past int64 raises
        key = codes if key is None else pc.add_checked(pc.multiply_checked(key, radix), codes)
    return key


def pack(table):
    """A totals table as Arrow IPC bytes: what travels between steps.

    Pickling a table would carry the whole buffers its columns are slices of (a group_by's
    output is), several times the table's own size.
    """
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, SCHEMA) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def unpack(data):
    """The totals table of pack()'s bytes."""
    return pa.ipc.open_stream(data).read_all()


def total_lines(table):
    """Yield totals.ndjson lines as UTF-8 byte batches, sorted by key.

    Each line is what canonical.dumps writes for {"source_system", "patient", "month",
    "total_cost", "record_count"}.
    """
    # Sorted on one integer per row that ranks its key: sort_by on the three string columns
    # compared strings row against row and took three times as long at 240,000 keys.
    table = table.take(pc.sort_indices(_sort_key(table))).combine_chunks()
    for start in range(0, len(table), LINES_PER_BATCH):
        part = table.slice(start, LINES_PER_BATCH)
        part = {name: part[name].combine_chunks() for name in part.column_names}
        cents = part["cents"]
        whole = pc.divide(cents, 100)
        frac = pc.utf8_lpad(pc.subtract(cents, pc.multiply(whole, 100)).cast(pa.string()), 2, "0")
        lines = join_text(
            '{"source_system":', _json_strings(part["source"]), ',"patient":', part["patient"],
            ',"month":', _json_strings(part["month"]), ',"total_cost":"', whole.cast(pa.string()),
            ".", frac, '","record_count":', part["count"].cast(pa.string()), "}\n",
        )  # fmt: skip
        yield joined_bytes(lines)


def _json_strings(column):
    """JSON string literals of a column with few distinct values (sources, months)."""
    encoded = pc.dictionary_encode(column)
    literals = pa.array([encode_basestring(v) for v in encoded.dictionary.to_pylist()])
    return literals.take(encoded.indices)
