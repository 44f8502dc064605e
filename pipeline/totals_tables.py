"""Control totals of legacy blocks as Arrow tables, summed by Arrow until a bundle ends.

A block of ~100,000 rows holds nearly as many (patient, month) keys as rows when patients are
many, so adding its totals into a dict key by key cost as much as the parse. Tables are
concatenated and grouped instead, and turned into the {key: [cents, count]} map once a bundle.
"""

import pyarrow as pa

KEYS = ["source", "patient", "month"]


def block_totals(source, patient, month, cents):
    """One block's totals: a table of (source, patient, month, cents, count) per key."""
    table = pa.table({"patient": patient, "month": month, "cents": cents})
    sums = table.group_by(["patient", "month"], use_threads=False).aggregate(
        [("cents", "sum"), ("cents", "count")]
    )
    return pa.table(
        {
            "source": pa.array([source] * len(sums), pa.string()),
            "patient": sums["patient"].cast(pa.string()),
            "month": sums["month"].cast(pa.string()),
            "cents": sums["cents_sum"].cast(pa.int64()),
            "count": sums["cents_count"].cast(pa.int64()),
        }
    )


def compact(tables):
    """The tables summed into one, a row per key."""
    if len(tables) == 1:
        return tables[0]
    sums = (
        pa.concat_tables(tables)
        .group_by(KEYS, use_threads=False)
        .aggregate([("cents", "sum"), ("count", "sum")])
    )
    return pa.table(
        {**{key: sums[key] for key in KEYS}, "cents": sums["cents_sum"], "count": sums["count_sum"]}
    )


def as_map(table):
    """{(source, patient, month): [cents, count]} of a totals table."""
    columns = [table[name].to_pylist() for name in (*KEYS, "cents", "count")]
    return {(s, p, m): [c, n] for s, p, m, c, n in zip(*columns, strict=True)}
