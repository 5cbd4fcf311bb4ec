"""The validation figures as terminal tables, Markdown, and a reliability plot (PNG, and HTML around it)."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from rich.console import Console, Group
from rich.table import Table

from fbss.validation.metrics import Figures, Outcome


def _pct(hits: int, n: int) -> str:
    return f"{hits}/{n} ({hits / n:.0%})" if n else "—"


def summary_rows(figures: Figures) -> list[tuple[str, str]]:
    f = figures
    return [
        ("cases", str(f.n)),
        ("top-1", _pct(f.top1, f.n)),
        ("top-3", _pct(f.top3, f.n)),
        ("emergency recall", _pct(f.emergencies_caught, f.emergencies)),
        ("false alarms (urgent flag, no emergency)", _pct(f.false_alarms, f.non_emergencies)),
        ("work-up hit (deciding test in the first 3 investigations)", _pct(f.workup_hits, f.workup_n)),
        ("Brier score (sum over causes; 0 best)", f"{f.brier:.3f}"),
        ("mean probability of the first-ranked cause", f"{f.leader_confidence:.0%}"),
        ("expected calibration error", f"{f.calibration_error:.3f}"),
    ]


REGION_COLUMNS = ("region", "n", "causes ranked", "top-1", "top-3", "emergency recall")


def region_rows(figures: Figures) -> list[tuple[str, ...]]:
    """Per operated region: the causes describe lumbar surgery, so cervical and thoracic cases are shown apart."""
    return [
        (
            r.region,
            str(r.n),
            _pct(r.ranked, r.n),
            _pct(r.top1, r.n),
            _pct(r.top3, r.n),
            _pct(r.emergencies_caught, r.emergencies),
        )
        for r in figures.regions
    ]


def render_text(by_split: dict[str, Figures], console: Console) -> None:
    summary = Table(title="Differential on published cases")
    summary.add_column("figure")
    for split in by_split:
        summary.add_column(split, justify="right")
    rows = {split: summary_rows(f) for split, f in by_split.items()}
    for i, (name, _) in enumerate(next(iter(rows.values()))):
        summary.add_row(name, *(rows[s][i][1] for s in by_split))
    tables: list[Table] = [summary]
    for split, f in by_split.items():
        causes = Table(title=f"Per cause ({split})")
        for column in ("true cause", "n", "top-1", "top-3", "ranked first (any case)", "confused with"):
            causes.add_column(column, justify="left" if column in ("true cause", "confused with") else "right")
        for row in f.causes:
            wrong = {k: v for k, v in f.confusion.get(row.cause, {}).items() if k != row.cause}
            confused = ", ".join(f"{k} {v}" for k, v in list(wrong.items())[:3])
            causes.add_row(
                row.cause, str(row.n), _pct(row.top1, row.n), _pct(row.top3, row.n), str(row.predicted_first), confused
            )
        tables.append(causes)
        regions = Table(title=f"By operated region ({split})")
        for column in REGION_COLUMNS:
            regions.add_column(column, justify="left" if column == "region" else "right")
        for cells in region_rows(f):
            regions.add_row(*cells)
        tables.append(regions)
    console.print(Group(*tables))


def render_misses(outcomes: list[Outcome], console: Console) -> None:
    """Per-case misses (development split only): the truth, its rank, the leaders, the work-up."""
    table = Table(title="Misses (development split)")
    for column in ("case", "true cause", "rank", "ranked first", "deciding test", "first investigations"):
        table.add_column(column)
    for o in outcomes:
        if o.rank == 1 and (o.workup_hit or not o.workup_decidable) and (o.urgent_flags or not o.emergency):
            continue
        leaders = ", ".join(f"{c} {p:.0%}" for c, p in o.ranked[:3])
        rank = str(o.rank) if o.rank else "—"
        if o.emergency and not o.urgent_flags:
            rank += " (emergency missed)"
        hit = "✓ " if o.workup_hit else ""
        table.add_row(o.case_id, o.cause, rank, leaders, hit + o.deciding_test, ", ".join(o.investigations[:3]))
    console.print(table)


def markdown_table(figures: Figures) -> str:
    lines = ["| true cause | n | top-1 | top-3 | ranked first (any case) |", "|---|---:|---:|---:|---:|"]
    for row in figures.causes:
        lines.append(
            f"| {row.cause} | {row.n} | {_pct(row.top1, row.n)} | {_pct(row.top3, row.n)} | {row.predicted_first} |"
        )
    return "\n".join(lines)


def markdown(by_split: dict[str, Figures]) -> str:
    names = list(by_split)
    out = ["| figure | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    rows = {s: summary_rows(f) for s, f in by_split.items()}
    for i, (name, _) in enumerate(rows[names[0]]):
        out.append(f"| {name} | " + " | ".join(rows[s][i][1] for s in names) + " |")
    for split, f in by_split.items():
        out += ["", f"Per cause ({split}):", "", markdown_table(f)]
        out += [
            "",
            f"By operated region ({split}):",
            "",
            "| " + " | ".join(REGION_COLUMNS) + " |",
            "|---|" + "---:|" * (len(REGION_COLUMNS) - 1),
        ]
        out += ["| " + " | ".join(row) + " |" for row in region_rows(f)]
    return "\n".join(out) + "\n"


def reliability_png(by_split: dict[str, Figures]) -> bytes:
    """Predicted probability against observed frequency, one line per split; marker area shows the pairs."""
    # imported here rather than with the module, which every `fbss` command loads (a cohort run's forked workers too)
    import matplotlib

    matplotlib.use("Agg")  # no display
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.5, 5.0), dpi=100)
    ax = figure.add_subplot()
    ax.plot([0, 1], [0, 1], linestyle="--", color="#888888", linewidth=1, label="perfect calibration")
    for (split, f), colour in zip(by_split.items(), ("#2471a3", "#c0392b", "#117a65"), strict=False):
        xs = [b.mean_predicted for b in f.reliability]
        ys = [b.observed for b in f.reliability]
        sizes = [12 + 4 * b.n**0.5 for b in f.reliability]
        ax.plot(xs, ys, color=colour, linewidth=1.2, label=f"{split} (n = {f.n}, Brier {f.brier:.2f})")
        ax.scatter(xs, ys, s=sizes, color=colour, alpha=0.7)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("probability the engine gave a cause")
    ax.set_ylabel("share of those where it was the main cause")
    ax.set_title("Reliability of the differential on published cases")
    ax.legend(loc="upper left", fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def write_plot(by_split: dict[str, Figures], path: Path) -> None:
    """A PNG, or for a .html path a page with the plot and the tables."""
    png = reliability_png(by_split)
    if path.suffix.lower() != ".html":
        path.write_bytes(png)
        return
    image = base64.b64encode(png).decode("ascii")
    body = html.escape(markdown(by_split))
    path.write_text(
        "<!doctype html><html lang='en'><meta charset='utf-8'><title>FBSS Navigator validation</title>"
        f"<h1>Differential on published cases</h1><img alt='reliability plot' src='data:image/png;base64,{image}'>"
        f"<pre>{body}</pre></html>\n",
        encoding="utf-8",
    )
