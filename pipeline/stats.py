"""Per-file counters that travel through the pipeline as data, and merging them by file."""


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


def stats_by_file(rows):
    """Merge stats rows (one per file, or per block of a split file) into {file_uri: stats}."""
    merged = {}
    for row in rows:
        merge_into(merged.setdefault(row["file"], {"file": row["file"]}), row)
    return merged


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
