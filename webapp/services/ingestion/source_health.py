"""Per source system: rows loaded and reject rate over the last runs, and the top reject reasons.

Source systems are named by the data ingestion leaves today: the records each run loaded
(`pipeline_run.reconciliation["records_by_source"]`), the rows it refused (`ingest_reject`)
and the identifiers patients carry (`patient_identifier`). Only counts and reason codes are
read, never an excerpt: the runs console shows no clinical values.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, text

from webapp.extensions import db
from webapp.models import IngestReject, PipelineRun
from webapp.services.ingestion.runs import ACTIVE_STATUSES

RECENT_RUNS = 12
TOP_REASONS = 5
UNKNOWN_SOURCE = "(no source system)"
# A run refusing this share of a source's rows is flagged: one bad export stands out
# from the sources that are fine.
ATTENTION_RATE = 0.10

# Distinct names by skipping through the (source_system, source_patient_id) index, so a
# table of millions of identifiers costs one index probe per source system.
_IDENTIFIER_SOURCES = text(
    "WITH RECURSIVE s(name) AS ("
    " SELECT MIN(source_system) FROM patient_identifier"
    " UNION ALL"
    " SELECT (SELECT MIN(source_system) FROM patient_identifier WHERE source_system > s.name)"
    " FROM s WHERE s.name IS NOT NULL)"
    " SELECT name FROM s WHERE name IS NOT NULL"
)


@dataclass(frozen=True)
class SourceRun:
    """What one run did for one source system; `loaded` is None when the run did not record it."""

    run_id: str
    started_at: datetime
    status: str
    loaded: int | None
    rejected: int

    @property
    def reject_rate(self) -> float | None:
        """Refused rows as a share of the rows loaded or refused (None when unknown or none)."""
        if self.loaded is None or self.loaded + self.rejected == 0:
            return None
        return self.rejected / (self.loaded + self.rejected)

    @property
    def needs_attention(self) -> bool:
        """True when this run refused at least ATTENTION_RATE of the source's rows."""
        rate = self.reject_rate
        return rate is not None and rate >= ATTENTION_RATE


@dataclass
class SourceOverview:
    """One source system over the recent runs (oldest first) and its most frequent reasons."""

    name: str
    runs: list[SourceRun] = field(default_factory=list)
    top_reasons: list[tuple[str, int]] = field(default_factory=list)

    @property
    def latest(self) -> SourceRun | None:
        """The most recent run this source took part in."""
        return self.runs[-1] if self.runs else None

    @property
    def needs_attention(self) -> bool:
        """True when the source's latest run needs a look."""
        return self.latest is not None and self.latest.needs_attention


def recent_runs(limit: int = RECENT_RUNS) -> list[PipelineRun]:
    """The last finished runs, oldest first."""
    stmt = (
        select(PipelineRun)
        .where(PipelineRun.status.not_in(ACTIVE_STATUSES))
        .order_by(PipelineRun.started_at.desc(), PipelineRun.id.desc())
        .limit(limit)
    )
    return list(reversed(db.session.scalars(stmt).all()))


def _rejects_by_run(run_ids: list[str]) -> dict[tuple[str, str], int]:
    stmt = (
        select(IngestReject.run_id, IngestReject.source_system, func.count())
        .where(IngestReject.run_id.in_(run_ids))
        .group_by(IngestReject.run_id, IngestReject.source_system)
    )
    return {(run, source or UNKNOWN_SOURCE): n for run, source, n in db.session.execute(stmt)}


def _top_reasons(run_ids: list[str], per_source: int) -> dict[str, list[tuple[str, int]]]:
    stmt = (
        select(IngestReject.source_system, IngestReject.reason, func.count())
        .where(IngestReject.run_id.in_(run_ids))
        .group_by(IngestReject.source_system, IngestReject.reason)
    )
    reasons: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for source, reason, n in db.session.execute(stmt):
        reasons[source or UNKNOWN_SOURCE].append((reason, n))
    return {
        source: sorted(found, key=lambda item: (-item[1], item[0]))[:per_source]
        for source, found in reasons.items()
    }


def source_system_names() -> set[str]:
    """Every source system patients carry an identifier from."""
    return {name for (name,) in db.session.execute(_IDENTIFIER_SOURCES)}


def source_overview(limit: int = RECENT_RUNS) -> list[SourceOverview]:
    """Each source system's part in the last `limit` runs; those needing a look come first."""
    runs = recent_runs(limit)
    run_ids = [run.id for run in runs]
    rejected = _rejects_by_run(run_ids) if run_ids else {}
    reasons = _top_reasons(run_ids, TOP_REASONS) if run_ids else {}
    loaded_by_run = {run.id: (run.reconciliation or {}).get("records_by_source") for run in runs}
    names = source_system_names() | {source for _run, source in rejected}
    for loaded in loaded_by_run.values():
        names |= set(loaded or {})
    overviews = {name: SourceOverview(name, top_reasons=reasons.get(name, [])) for name in names}
    for run in runs:
        loaded = loaded_by_run[run.id]
        for name, overview in overviews.items():
            refused = rejected.get((run.id, name), 0)
            count = None if loaded is None else loaded.get(name, 0)
            if refused or count:
                overview.runs.append(SourceRun(run.id, run.started_at, run.status, count, refused))
    return sorted(overviews.values(), key=lambda o: (not o.needs_attention, o.name.lower()))
