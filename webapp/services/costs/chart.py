"""A patient's monthly cost series and the geometry of its server-rendered SVG chart."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import PatientCost

CHART_WIDTH = 720
CHART_HEIGHT = 240
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 12, 12, 40


@dataclass(frozen=True)
class MonthCost:
    """One month of one patient: total cost and number of counted records."""

    patient_id: int
    month: str
    total: Decimal
    record_count: int
    updated_at: datetime


@dataclass(frozen=True)
class Bar:
    """One bar of the chart, in SVG user units."""

    month: str
    total: Decimal
    x: float
    y: float
    width: float
    height: float
    label: bool


def load_series(patient_id: int) -> list[MonthCost]:
    """Monthly costs of a patient read from the database (the page caches the rendered block)."""
    rows = db.session.execute(
        select(
            PatientCost.month,
            PatientCost.total_cost,
            PatientCost.record_count,
            PatientCost.updated_at,
        )
        .where(PatientCost.patient_id == patient_id)
        .order_by(PatientCost.month)
    )
    return [MonthCost(patient_id, m, Decimal(t), n, u) for m, t, n, u in rows]


def series_total(series: list[MonthCost]) -> Decimal:
    """Sum of every month's total."""
    return sum((month.total for month in series), Decimal("0.00"))


def cost_summary(series: list[MonthCost]) -> dict:
    """What the chart's cost block shows: the series, its total and the SVG geometry."""
    return {"series": series, "total": series_total(series), "chart": bar_chart(series)}


def _month_range(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def bar_chart(series: list[MonthCost]) -> dict:
    """Bars, gridlines and axis labels for the series; months without records get no bar."""
    if not series:
        return {"bars": [], "ticks": [], "width": CHART_WIDTH, "height": CHART_HEIGHT}
    totals = {month.month: month.total for month in series}
    months = _month_range(series[0].month, series[-1].month)
    top = max(max(totals.values()), Decimal("1"))
    plot_w = CHART_WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = CHART_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    slot = plot_w / len(months)
    every = max(1, len(months) // 12)
    bars = []
    for index, month in enumerate(months):
        total = totals.get(month, Decimal("0"))
        height = float(total / top) * plot_h
        bars.append(
            Bar(
                month=month,
                total=total,
                x=round(MARGIN_LEFT + index * slot + slot * 0.1, 2),
                y=round(MARGIN_TOP + plot_h - height, 2),
                width=round(slot * 0.8, 2),
                height=round(height, 2),
                label=index % every == 0,
            )
        )
    ticks = [
        {"y": round(MARGIN_TOP + plot_h * (1 - step / 4), 2), "value": top * step / 4}
        for step in range(5)
    ]
    return {
        "bars": bars,
        "ticks": ticks,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": MARGIN_LEFT,
        "right": CHART_WIDTH - MARGIN_RIGHT,
        "baseline": MARGIN_TOP + plot_h,
    }
