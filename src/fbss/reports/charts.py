"""Charts as SVG, from one code path for the web page and the PDF: the differential and outcomes over time."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
import matplotlib.dates

matplotlib.use("Agg")  # no display; charts are rendered to SVG text

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from fbss.reasoning.results import UNCALIBRATED_CEILING, CauseResult, shown_percent

# Calm colours by cause category, none of them red or orange (those mean red flags on every page), told apart
# by a legend; colour-blind safe (Okabe-Ito blues and green, with a brown, a mauve and a grey).
CATEGORY_COLOURS = {
    "inappropriate_procedure": "#6c5b7b",
    "technical_failure": "#0072b2",
    "biomechanical_sequelae": "#56b4e9",
    "complication": "#8c6d31",
    "extraspinal": "#009e73",
    "psychosocial": "#b07aa1",
    "undetermined": "#7f7f7f",
}
CATEGORY_LABEL = {
    "inappropriate_procedure": "wrong procedure or level",
    "technical_failure": "technical failure",
    "biomechanical_sequelae": "biomechanical",
    "complication": "complication",
    "extraspinal": "outside the spine",
    "psychosocial": "psychosocial",
    "undetermined": "other",
}


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    # text as text, not as glyph outlines: a third of the size, and WeasyPrint draws it several times faster
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "fbss"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    # drop the XML prologue so the SVG can be inlined in HTML
    return text[text.index("<svg") :]


_SVG_ID = re.compile(r'(id="|url\(#|href="#)([A-Za-z_][\w.-]*)')


def scoped_svg(svg: str, scope: str) -> str:
    """Prefix the ids inside an inlined SVG, so that several charts on one page do not share ids."""
    return _SVG_ID.sub(lambda m: f"{m.group(1)}{scope}-{m.group(2)}", svg)


def svg_image(svg: str, alt: str) -> str:
    """An SVG as an <img> with a data: address: WeasyPrint draws it with its SVG renderer, which reads the
    chart's own styles (inline, its HTML parser would warn about each one)."""
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img class="chart-image" alt="{html.escape(alt)}" src="data:image/svg+xml;base64,{data}">'


def differential_chart(
    causes: Sequence[CauseResult], ceiling: float = UNCALIBRATED_CEILING, top: int = 8, title: str = "Likely causes"
) -> str:
    """Horizontal bars: each cause's probability, coloured by category (with a legend), over a pale band that
    shows the range its unknown findings leave open; no bar, band or label reaches beyond `ceiling`, the highest
    value the calibration supports as a point value."""
    shown = list(causes[:top])[::-1]
    figure = Figure(figsize=(7.0, 0.42 * len(shown) + 1.35), dpi=100)
    axes = figure.subplots()
    positions = list(range(len(shown)))
    colours = [CATEGORY_COLOURS.get(c.category.value, "#7f7f7f") for c in shown]
    low = [min(c.low, ceiling) for c in shown]
    high = [min(c.high, ceiling) for c in shown]
    axes.barh(
        positions,
        [(h - lo) * 100 for lo, h in zip(low, high, strict=True)],
        left=[lo * 100 for lo in low],
        color=colours,
        alpha=0.18,
        height=0.78,
        linewidth=0,
    )
    axes.barh(positions, [min(c.probability, ceiling) * 100 for c in shown], color=colours, height=0.5)
    axes.set_yticks(positions, [c.title for c in shown], fontsize=9)
    axes.set_xlim(0, 100)
    axes.set_xticks([0, 20, 40, 60, 80, 100])
    axes.set_xlabel("Probability (%)", fontsize=8)
    axes.set_title(title, fontsize=11, loc="left")
    axes.spines[["top", "right"]].set_visible(False)
    for position, cause in zip(positions, shown, strict=True):
        value = min(cause.probability, ceiling) * 100
        inside = value > 88
        axes.text(
            value - 1.5 if inside else value + 1.5,
            position,
            shown_percent(cause.probability, ceiling),
            va="center",
            ha="right" if inside else "left",
            fontsize=8,
            color="white" if inside else "#1b2631",
        )
    seen = list(dict.fromkeys(c.category.value for c in reversed(shown)))
    handles = [Patch(color=CATEGORY_COLOURS.get(k, "#7f7f7f"), label=CATEGORY_LABEL.get(k, k)) for k in seen]
    handles.append(Patch(color="#7f7f7f", alpha=0.18, label="range left open by unknown findings"))
    axes.legend(
        handles=handles,
        fontsize=7,
        loc="upper left",
        bbox_to_anchor=(0.0, -0.14 - 0.5 / (len(shown) + 3)),
        ncol=3,
        frameon=False,
        borderaxespad=0,
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
