"""Daily trend charts drawn on the server as SVG geometry (integer coordinates, so no locale formats
them); `templates/portal/chart.html` draws it. No JavaScript and nothing from a CDN."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from django.utils import formats
from django.utils.translation import pgettext

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 520, 180, 48, 22, 10


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float | None]  # None: no value that day (a line is broken there)
    css: str  # a class of portal.css that colours it
    unit: str = ""


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    width: int
    height: int
    css: str
    title: str


@dataclass(frozen=True)
class Line:
    points: str
    css: str
    title: str


@dataclass(frozen=True)
class Tick:
    position: int
    text: str


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    summary: str  # what a screen reader says instead of the picture
    width: int
    height: int
    plot_left: int
    plot_bottom: int
    rects: list[Rect]
    lines: list[Line]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    legend: list[Series]


def _nice_ceiling(value: float) -> float:
    """1, 2, 5, 10, 20, 50, ... at or above `value`, so the axis reads in round numbers."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    return next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= value)


def number_text(value: float) -> str:
    """A number without a needless ".0", with the decimal separator of the page's language."""
    return f"{value:g}".replace(".", formats.get_format("DECIMAL_SEPARATOR"))


def _value_text(value: float, unit: str) -> str:
    text = f"{value:g}" if value == int(value) else f"{value:.1f}"
    return text.replace(".", formats.get_format("DECIMAL_SEPARATOR")) + unit


def _day_text(day: date) -> str:
    # Translators: a Django date format for a day on a chart's axis ("30 Nov"): "d" day, "M" month abbreviated.
    return formats.date_format(day, pgettext("chart day format", "d M"))


def _runs(values: list[float | None], slot: float, y_of) -> list[list[str]]:
    """A line's points, broken where a value is missing (None); a lone point becomes a short dash."""
    runs: list[list[str]] = []
    current: list[tuple[int, float]] = []
    for i, value in enumerate([*values, None]):
        if value is not None:
            current.append((i, value))
            continue
        if len(current) == 1:
            (i0, v0), = current
            centre = LEFT + (i0 + 0.5) * slot
            runs.append([f"{round(centre - slot / 3)},{y_of(v0)}", f"{round(centre + slot / 3)},{y_of(v0)}"])
        elif current:
            runs.append([f"{LEFT + round((i0 + 0.5) * slot)},{y_of(v0)}" for i0, v0 in current])
        current = []
    return runs


def daily_chart(*, key: str, title: str, days: list[date], stacked: list[Series] = (), lines: list[Series] = (),
                summary: str = "") -> Chart:
    """Stacked bars (one slot per day) and lines over the same days, on one value axis from 0."""
    count = max(len(days), 1)
    plot_width, plot_height = WIDTH - LEFT, HEIGHT - BOTTOM - TOP
    slot = plot_width / count
    totals = [sum(series.values[i] for series in stacked) for i in range(len(days))]
    peak = _nice_ceiling(max([*totals, *(v for series in lines for v in series.values if v is not None), 0]))
    unit = (stacked or lines)[0].unit if (stacked or lines) else ""

    def y_of(value: float) -> int:
        return TOP + plot_height - round(value / peak * plot_height)

    rects = []
    for i, day in enumerate(days):
        base = 0.0
        for series in stacked:
            value = series.values[i]
            if value:
                top, bottom = y_of(base + value), y_of(base)
                rects.append(Rect(x=LEFT + round(i * slot) + 1, y=top, width=max(round(slot) - 2, 1), height=max(bottom - top, 1),
                                  css=series.css, title=f"{_day_text(day)}: {series.label} {_value_text(value, series.unit)}"))
            base += value
    drawn_lines = [
        Line(points=" ".join(points), css=series.css, title=series.label)
        for series in lines for points in _runs(series.values, slot, y_of)
    ]
    step = max(1, count // 6)
    x_ticks = [Tick(LEFT + round((i + 0.5) * slot), _day_text(day)) for i, day in enumerate(days) if i % step == 0]
    y_ticks = [Tick(y_of(peak * part / 2), _value_text(peak * part / 2, unit)) for part in (0, 1, 2)]
    return Chart(key=key, title=title, summary=summary, width=WIDTH, height=HEIGHT, plot_left=LEFT,
                 plot_bottom=HEIGHT - BOTTOM, rects=rects, lines=drawn_lines, x_ticks=x_ticks, y_ticks=y_ticks,
                 legend=[*stacked, *lines])
