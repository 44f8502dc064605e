"""Checking what the loader wrote against the pipeline's control totals."""

from pipeline.contract import TOTALS_FILE, cents, money
from webapp.services.ingestion.loader.output_files import iter_rows
from webapp.services.ingestion.loader.records import LoadedTotals, control_key

MAX_LISTED = 50


def reconcile(output_uri: str, totals: LoadedTotals) -> dict:
    """Compare per-key control totals with loaded + refused; list the keys that disagree."""
    mismatches = []
    checked = 0
    expected_cents = 0
    seen = set()
    for row in iter_rows(output_uri, TOTALS_FILE):
        key = control_key(row)
        seen.add(key)
        checked += 1
        want = [cents(row["total_cost"]), int(row["record_count"])]
        expected_cents += want[0]
        loaded = totals.loaded.get(key, [0, 0])
        refused = totals.refused.get(key, [0, 0])
        got = [loaded[0] + refused[0], loaded[1] + refused[1]]
        if got != want:
            mismatches.append(_describe(key, want, got))
    for key in set(totals.loaded) - seen:
        mismatches.append(_describe(key, [0, 0], totals.loaded[key]))
    loaded_cents = sum(v[0] for v in totals.loaded.values())
    refused_cents = sum(v[0] for v in totals.refused.values())
    return {
        "status": "ok" if not mismatches else "mismatch",
        "keys_checked": checked,
        "expected_total": money(expected_cents),
        "loaded_total": money(loaded_cents),
        "refused_total": money(refused_cents),
        "mismatch_count": len(mismatches),
        "mismatches": mismatches[:MAX_LISTED],
        "records_by_source": records_by_source(totals.loaded),
    }


def records_by_source(loaded: dict[tuple, list[int]]) -> dict[str, int]:
    """Records loaded per source system (for the runs console's per-source view)."""
    counts: dict[str, int] = {}
    for (source_system, _patient, _month), (_cents, records) in loaded.items():
        counts[source_system] = counts.get(source_system, 0) + records
    return counts


def _describe(key: tuple, want: list[int], got: list[int]) -> dict:
    return {
        "source_system": key[0],
        "patient": key[1],
        "month": key[2],
        "expected": {"total_cost": money(want[0]), "record_count": want[1]},
        "loaded": {"total_cost": money(got[0]), "record_count": got[1]},
    }
