"""Geometry of the small server-rendered SVG bar charts of the per-source runs view."""

from dataclasses import dataclass

from webapp.services.ingestion.source_health import RECENT_RUNS, SourceRun

WIDTH = 180
HEIGHT = 40
PAD = 2


@dataclass(frozen=True)
class TrendBar:
    """One run's bar in SVG user units, with the text its tooltip shows."""

    x: float
    y: float
    width: float
    height: float
    label: str
    alert: bool


def _bars(values: list[float | None], top: float, labels: list[str], alerts: list[bool]) -> dict:
    # Runs fill the slots from the right, so the latest run is always at the same place.
    slot = (WIDTH - 2 * PAD) / RECENT_RUNS
    offset = RECENT_RUNS - len(values)
    plot_h = HEIGHT - 2 * PAD
    bars = []
    for index, value in enumerate(values):
        height = (
            0.0 if value is None or top <= 0 else max(value / top * plot_h, 1.0 if value else 0)
        )
        bars.append(
            TrendBar(
                x=round(PAD + (offset + index) * slot + slot * 0.15, 2),
                y=round(PAD + plot_h - height, 2),
                width=round(slot * 0.7, 2),
                height=round(height, 2),
                label=labels[index],
                alert=alerts[index],
            )
        )
    return {"bars": bars, "width": WIDTH, "height": HEIGHT, "baseline": HEIGHT - PAD}


def _percent(rate: float | None) -> str:
    return "rate unknown" if rate is None else f"{rate:.1%}"


def loaded_trend(runs: list[SourceRun]) -> dict:
    """Bars of rows loaded per run, scaled to the largest run."""
    values = [run.loaded for run in runs]
    top = max((v for v in values if v is not None), default=0)
    labels = [
        f"{run.run_id}: {'not recorded' if run.loaded is None else f'{run.loaded:,}'} loaded"
        for run in runs
    ]
    return _bars(values, top, labels, [False] * len(runs))


def reject_trend(runs: list[SourceRun]) -> dict:
    """Bars of reject rate per run on a fixed 0-100 % scale, so sources compare at a glance."""
    values = [run.reject_rate for run in runs]
    labels = [
        f"{run.run_id}: {run.rejected:,} rejected ({_percent(run.reject_rate)})" for run in runs
    ]
    return _bars(values, 1.0, labels, [run.needs_attention for run in runs])
