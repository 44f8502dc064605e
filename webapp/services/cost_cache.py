"""Named invalidation of cached cost reads, called by every path that writes costs."""

from collections.abc import Iterable

from webapp.extensions import cache

COST_TABLE_VERSION_KEY = "costs:table-version"


def patient_cost_key(patient_id: int) -> str:
    """Cache key of one patient's monthly cost series."""
    return f"costs:patient:{patient_id}"


def clear_patient_costs(patient_ids: Iterable[int]) -> None:
    """Forget cached cost series of these patients and the cross-patient cost table."""
    keys = [patient_cost_key(pid) for pid in patient_ids]
    try:
        if keys:
            cache.delete_many(*keys)
        cache.delete(COST_TABLE_VERSION_KEY)
    except Exception:  # a cache outage must never fail a load; readers fall back to the DB
        pass
