"""Charts as SVG, from one code path for the web page and the PDF: the differential and outcomes over time."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
import matplotlib.dates

matplotlib.use("Agg")  # no display; charts are rendered to SVG text

from matplotlib.figure import Figure

from fbss.reasoning.results import UNCALIBRATED_CEILING, CauseResult, shown_percent

CATEGORY_COLOURS = {
    "inappropriate_procedure": "#8e44ad",
    "technical_failure": "#c0392b",
    "biomechanical_sequelae": "#2471a3",
    "complication": "#d35400",
    "extraspinal": "#117a65",
    "psychosocial": "#7d6608",
    "undetermined": "#566573",
}


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    # drop the XML prologue so the SVG can be inlined in HTML
    return text[text.index("<svg") :]


_SVG_ID = re.compile(r'(id="|url\(#|href="#)([A-Za-z_][\w.-]*)')


def scoped_svg(svg: str, scope: str) -> str:
    """Prefix the ids inside an inlined SVG, so that several charts on one page do not share ids."""
    return _SVG_ID.sub(lambda m: f"{m.group(1)}{scope}-{m.group(2)}", svg)


def differential_chart(
    causes: Sequence[CauseResult], ceiling: float = UNCALIBRATED_CEILING, top: int = 8, title: str = "Likely causes"
) -> str:
    """Horizontal bars: each cause's probability, with the range its unknown findings leave open; no bar or label
    reaches beyond `ceiling`, the highest value the calibration supports as a point value."""
    shown = list(causes[:top])[::-1]
    figure = Figure(figsize=(7.0, 0.45 * len(shown) + 1.0), dpi=100)
    axes = figure.subplots()
    positions = range(len(shown))
    point = [min(c.probability, ceiling) for c in shown]
    values = [p * 100 for p in point]
    lower = [max(0.0, (p - min(c.low, ceiling)) * 100) for c, p in zip(shown, point, strict=True)]
    upper = [max(0.0, (min(c.high, ceiling) - p) * 100) for c, p in zip(shown, point, strict=True)]
    colours = [CATEGORY_COLOURS.get(c.category.value, "#566573") for c in shown]
    axes.barh(list(positions), values, color=colours, height=0.6)
    axes.errorbar(values, list(positions), xerr=[lower, upper], fmt="none", ecolor="#333333", capsize=3, lw=1)
    axes.set_yticks(list(positions), [c.title for c in shown], fontsize=9)
    axes.set_xlim(0, 108)
    axes.set_xticks([0, 20, 40, 60, 80, 100])
    axes.set_xlabel("Probability (%) — whiskers: range left open by unknown findings", fontsize=8)
    axes.set_title(title, fontsize=11, loc="left")
    axes.spines[["top", "right"]].set_visible(False)
    for position, cause in zip(positions, shown, strict=True):
        axes.text(
            min(min(cause.high, ceiling) * 100 + 1.5, 101),
            position,
            shown_percent(cause.probability, ceiling),
            va="center",
            fontsize=8,
        )
    return _svg(figure)


@dataclass(frozen=True)
class OutcomePoint:
    when: dt.date
    value: float
    label: str | None = None  # e.g. the time point ("3 months")


@dataclass(frozen=True)
class OutcomeChart:
    """What an outcome chart shows: one instrument's scores, its scale and the band of clinically important change."""

    title: str
    unit: str
    points: Sequence[OutcomePoint]
    scale_min: float
    scale_max: float
    higher_is_worse: bool
    important_change: float | None = None  # the MCID, in scale units, drawn as a band from the baseline
    important_change_label: str | None = None


def _day(when: dt.date) -> float:
    """A date as matplotlib's day number."""
    value: float = matplotlib.dates.date2num(when)  # type: ignore[no-untyped-call]
    return value


def outcome_chart(chart: OutcomeChart) -> str:
    """Scores over time, with the baseline and the band a change must leave to be clinically important."""
    figure = Figure(figsize=(7.0, 3.0), dpi=100)
    axes = figure.subplots()
    points = sorted(chart.points, key=lambda p: p.when)
    if points and chart.important_change is not None:
        baseline = points[0].value
        axes.axhspan(
            baseline - chart.important_change,
            baseline + chart.important_change,
            color="#f5b041",
            alpha=0.25,
            label=chart.important_change_label or f"within ±{chart.important_change:g} of baseline: not important",
        )
        axes.axhline(baseline, color="#b9770e", lw=0.8, ls="--")
    if points:
        days = [_day(p.when) for p in points]
        axes.plot(days, [p.value for p in points], marker="o", color="#1f618d", lw=2)
        axes.xaxis_date()
        if days[0] == days[-1]:  # one date: a month either side, not matplotlib's default of years
            axes.set_xlim(days[0] - 30, days[0] + 30)
        for point in points:
            if point.label:
                axes.annotate(
                    point.label,
                    (point.when, point.value),
                    textcoords="offset points",
                    xytext=(0, 8),
                    ha="center",
                    fontsize=7,
                )
    axes.set_ylim(chart.scale_min, chart.scale_max)
    if chart.higher_is_worse:
        axes.set_ylabel(f"{chart.unit} (lower is better)", fontsize=8)
    else:
        axes.set_ylabel(f"{chart.unit} (higher is better)", fontsize=8)
    axes.set_title(chart.title, fontsize=11, loc="left")
    axes.spines[["top", "right"]].set_visible(False)
    if chart.important_change is not None and points:
        # below the dates, so that the band's label never hides a score
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.32), frameon=False, borderaxespad=0)
    figure.autofmt_xdate()
    return _svg(figure)
