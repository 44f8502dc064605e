"""Per-file counters that travel through the pipeline as data, and the CombineFn merging them."""

import apache_beam as beam


def new_stats(spec, fmt):
    """Return an empty stats row for one input file."""
    return {
        "file": spec["uri"],
        "source_system": spec["source_system"],
        "format": fmt,
        "generation": spec["generation"],
        "rows_read": 0,
        "records": 0,
        "patients": 0,
        "rejected": {},
        "skipped": {},
    }


def bump(counts, key, n=1):
    """Add n to counts[key]."""
    counts[key] = counts.get(key, 0) + n


def merge_into(total, part):
    """Fold one stats row (or partial row) into an accumulated one."""
    for key in ("rows_read", "records", "patients"):
        total[key] = total.get(key, 0) + part.get(key, 0)
    for key in ("rejected", "skipped"):
        bucket = total.setdefault(key, {})
        for reason, n in part.get(key, {}).items():
            bump(bucket, reason, n)
    for key in ("source_system", "format", "generation"):
        if part.get(key) is not None:
            total[key] = part[key]
    return total


def stats_by_file(rows, into=None):
    """Merge stats rows (one per file, or per block of a split file) into {file_uri: stats}."""
    merged = {} if into is None else into
    for row in rows:
        merge_into(merged.setdefault(row["file"], {"file": row["file"]}), row)
    return merged


class MergeStatsFn(beam.CombineFn):
    """Merge per-file stats rows into {file_uri: stats}; small (one entry per input file)."""

    def create_accumulator(self):
        return {}

    def add_input(self, acc, row):
        return stats_by_file([row], acc)

    def merge_accumulators(self, accs):
        out = {}
        for acc in accs:
            for uri, row in acc.items():
                merge_into(out.setdefault(uri, {"file": uri}), row)
        return out

    def extract_output(self, acc):
        return acc


def merge_totals(into, partial):
    """Add a {key: [cents, count]} map of control totals into another; returns `into`."""
    for key, (total, count) in partial.items():
        current = into.get(key)
        if current is None:
            into[key] = [total, count]
        else:
            current[0] += total
            current[1] += count
    return into
