"""The cohort report: counts and rates by cause, red flag, triage, SCS advice, option rating, work-up, missing data
and clinic, computed with DuckDB over the result Parquet, rendered as one HTML file with inline SVG charts."""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")  # no display; charts are rendered to SVG text

from matplotlib.figure import Figure

from fbss.errors import FbssError
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.care_models import PanelCategory
from fbss.knowledge.loader import default_knowledge


@dataclass(frozen=True)
class Count:
    """One group of a breakdown: its key, a readable label, how many patients, and the share of the denominator."""

    key: str
    label: str
    patients: int
    rate: float


@dataclass(frozen=True)
class CategoryRow:
    """How one panel category was rated across the assessed patients (shares of the assessed)."""

    key: str
    label: str
    appropriate: int
    uncertain: int
    inappropriate: int
    assessed: int

    def rate(self, label: str) -> float:
        count: int = getattr(self, label)
        return count / self.assessed if self.assessed else 0.0


@dataclass(frozen=True)
class ClinicRow:
    clinic: str
    patients: int
    assessed: int
    red_flag_rate: float
    emergency: int
    leading_cause: str | None
    unmapped_per_patient: float
    scs_recommended_rate: float | None = None  # None for results without the care columns
    urgent_tests: int | None = None


@dataclass
class CohortSummary:
    source: str
    patients: int = 0
    assessed: int = 0
    statuses: list[Count] = field(default_factory=list)
    causes: list[Count] = field(default_factory=list)  # the leading cause of each assessed patient
    causes_top3: list[Count] = field(default_factory=list)  # the cause anywhere in the top three
    red_flags: list[Count] = field(default_factory=list)
    triage: list[Count] = field(default_factory=list)
    ask_now: list[Count] = field(default_factory=list)
    advice: list[Count] = field(default_factory=list)  # SCS advice, when the results carry it
    advice_stopped_by: list[Count] = field(default_factory=list)
    categories: list[CategoryRow] = field(default_factory=list)  # option ratings by panel category
    appropriate_options: list[Count] = field(default_factory=list)
    uncertain_options: list[Count] = field(default_factory=list)
    next_tests: list[Count] = field(default_factory=list)
    suggested_tests: list[Count] = field(default_factory=list)  # anywhere in the urgent or ranked work-up
    urgent_tests: list[Count] = field(default_factory=list)
    missing: list[Count] = field(default_factory=list)  # findings among the questions to ask next
    missing_per_patient: float | None = None
    clinics: list[ClinicRow] = field(default_factory=list)
    problems: list[Count] = field(default_factory=list)  # why patients were not assessed
    knowledge: list[str] = field(default_factory=list)
    skipped_lines: int = 0
    unmapped: int = 0


def _source(results: Path) -> str:
    if results.is_dir():
        return f"read_parquet('{_quote(results)}/**/*.parquet')"
    if results.is_file():
        return f"read_parquet('{_quote(results)}')"
    raise FbssError(f"RESULTS: {results} does not exist (the --out of `fbss cohort run`)")


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def _counts(
    connection: duckdb.DuckDBPyConnection, query: str, denominator: int, titles: dict[str, str] | None = None
) -> list[Count]:
    rows = connection.execute(query).fetchall()
    titles = titles or {}
    return [
        Count(
            str(key),
            titles.get(str(key), str(key).replace("_", " ")),
            int(n),
            int(n) / denominator if denominator else 0.0,
        )
        for key, n in rows
    ]


def summarise(results: Path) -> CohortSummary:
    """Every figure of the report, from one DuckDB pass per breakdown over the result Parquet."""
    source = _source(results)
    kb = default_knowledge()
    cause_titles = {c.id: c.title for c in kb.causes}
    flag_titles = {f.id: f.title for f in kb.red_flags}
    connection = duckdb.connect(":memory:")
    connection.execute(f"CREATE VIEW results AS SELECT * FROM {source}")
    columns = {str(row[0]) for row in connection.execute("DESCRIBE results").fetchall()}
    summary = CohortSummary(source=str(results))
    first = connection.execute(
        "SELECT count(*), count(*) FILTER (status = 'assessed'), coalesce(sum(skipped_lines), 0),"
        " coalesce(sum(unmapped), 0) FROM results"
    ).fetchone()
    assert first is not None
    summary.patients, summary.assessed, summary.skipped_lines, summary.unmapped = (int(v) for v in first)
    n, assessed = summary.patients, summary.assessed
    summary.statuses = _counts(connection, "SELECT status, count(*) FROM results GROUP BY 1 ORDER BY 2 DESC", n)
    summary.causes = _counts(
        connection,
        "SELECT coalesce(cause_1, 'not_ranked'), count(*) FROM results WHERE status = 'assessed' "
        "GROUP BY 1 ORDER BY 2 DESC, 1",
        assessed,
        {**cause_titles, "not_ranked": "causes not ranked (operation outside the lumbar spine)"},
    )
    summary.causes_top3 = _counts(
        connection,
        "SELECT cause, count(DISTINCT patient_id) FROM (SELECT patient_id, unnest([cause_1, cause_2, cause_3]) AS cause"
        " FROM results WHERE status = 'assessed') WHERE cause IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1",
        assessed,
        cause_titles,
    )
    summary.red_flags = _counts(
        connection,
        "SELECT flag, count(*) FROM (SELECT unnest(red_flags) AS flag FROM results) GROUP BY 1 ORDER BY 2 DESC, 1",
        assessed,
        flag_titles,
    )
    summary.triage = _counts(
        connection,
        "SELECT triage_level, count(*) FROM results WHERE status = 'assessed' GROUP BY 1"
        " ORDER BY list_position(['emergency', 'same_day', 'within_days', 'none'], triage_level)",
        assessed,
    )
    summary.ask_now = _counts(
        connection,
        "SELECT flag, count(*) FROM (SELECT unnest(ask_now) AS flag FROM results) GROUP BY 1 ORDER BY 2 DESC, 1",
        assessed,
        flag_titles,
    )
    if "scs_advice" in columns:
        summary.advice = _counts(
            connection,
            "SELECT coalesce(scs_advice, 'stopped (contraindication)'), count(*) FROM results"
            " WHERE status = 'assessed' GROUP BY 1 ORDER BY 2 DESC, 1",
            assessed,
        )
    care = CARE_COLUMNS.issubset(columns)
    if care:
        _care(connection, summary, kb)
    summary.problems = _counts(
        connection,
        "SELECT problem, count(*) FROM results WHERE status <> 'assessed' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20",
        n,
    )
    care_figures = CLINIC_CARE if care else "NULL, NULL"
    clinic_rows = connection.execute(
        f"""
        SELECT coalesce(clinic, '(no managing organization)') AS c, count(*),
               count(*) FILTER (status = 'assessed'),
               count(*) FILTER (red_flag_count > 0),
               count(*) FILTER (triage_level = 'emergency'),
               mode(cause_1) FILTER (status = 'assessed'),
               avg(unmapped),
               {care_figures}
        FROM results GROUP BY 1 ORDER BY 2 DESC, 1
        """
    ).fetchall()
    summary.clinics = [
        ClinicRow(
            clinic=str(c),
            patients=int(total),
            assessed=int(done),
            red_flag_rate=(int(flagged) / int(done)) if done else 0.0,
            emergency=int(emergency),
            leading_cause=cause_titles.get(str(leading), str(leading)) if leading else None,
            unmapped_per_patient=float(unmapped or 0.0),
            scs_recommended_rate=(int(recommended) / int(done) if done else 0.0) if care else None,
            urgent_tests=int(urgent) if care else None,
        )
        for c, total, done, flagged, emergency, leading, unmapped, recommended, urgent in clinic_rows
    ]
    summary.knowledge = [
        f"{version} ({fingerprint}), engine {engine}"
        for version, fingerprint, engine in connection.execute(
            "SELECT DISTINCT knowledge_version, knowledge_fingerprint, engine_version FROM results"
            " WHERE knowledge_version IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
    return summary


CARE_COLUMNS = {
    "scs_stopped_by",
    *(f"rating_{c.value}" for c in PanelCategory),
    "appropriate_options",
    "uncertain_options",
    "next_test",
    "urgent_tests",
    "ranked_tests",
    "missing_data",
    "missing_count",
}
CLINIC_CARE = (
    "count(*) FILTER (scs_advice IN ('strongly_recommended', 'recommended')), count(*) FILTER (len(urgent_tests) > 0)"
)
ASSESSED = "FROM results WHERE status = 'assessed'"


def _care(connection: duckdb.DuckDBPyConnection, summary: CohortSummary, kb: KnowledgeBase) -> None:
    """The care-planning breakdowns: why SCS advice stopped, option ratings, the work-up, the missing data."""
    assessed = summary.assessed
    contraindications = {c.id: c.reason for c in kb.care.scs.contraindications}
    treatments = {t.id: t.title for t in kb.care.treatments}
    tests = {t.id: t.title for t in kb.care.tests.tests}
    findings = {f.id: f.title for f in kb.findings.values()}

    def unnest(column: str) -> str:
        # one count per patient, however often an item appears in the patient's list
        return (
            f"SELECT x, count(DISTINCT patient_id) FROM (SELECT patient_id, unnest({column}) AS x {ASSESSED})"
            " GROUP BY 1 ORDER BY 2 DESC, 1"
        )

    summary.advice_stopped_by = _counts(connection, unnest("scs_stopped_by"), assessed, contraindications)
    categories = {c.id.value: c.title for c in kb.care.appropriateness.categories}
    for category in PanelCategory:
        counts = connection.execute(
            f"SELECT count(*) FILTER (rating_{category.value} = 'appropriate'),"
            f" count(*) FILTER (rating_{category.value} = 'uncertain'),"
            f" count(*) FILTER (rating_{category.value} = 'inappropriate') {ASSESSED}"
        ).fetchone()
        assert counts is not None
        appropriate, uncertain, inappropriate = (int(n) for n in counts)
        title = categories.get(category.value, category.value)
        summary.categories.append(CategoryRow(category.value, title, appropriate, uncertain, inappropriate, assessed))
    summary.appropriate_options = _counts(connection, unnest("appropriate_options"), assessed, treatments)
    summary.uncertain_options = _counts(connection, unnest("uncertain_options"), assessed, treatments)
    summary.next_tests = _counts(
        connection,
        f"SELECT coalesce(next_test, 'none'), count(*) {ASSESSED} GROUP BY 1 ORDER BY 2 DESC, 1",
        assessed,
        {**tests, "none": "no test suggested"},
    )
    summary.suggested_tests = _counts(connection, unnest("list_concat(urgent_tests, ranked_tests)"), assessed, tests)
    summary.urgent_tests = _counts(connection, unnest("urgent_tests"), assessed, tests)
    summary.missing = _counts(connection, unnest("missing_data"), assessed, findings)
    mean = connection.execute(f"SELECT avg(missing_count) {ASSESSED}").fetchone()
    summary.missing_per_patient = float(mean[0]) if mean and mean[0] is not None else None


# --- rendering ---------------------------------------------------------------------------------------------------


def _short(label: str, limit: int = 48) -> str:
    """A chart label short enough to leave room for the bars; the table beside the chart has the full title."""
    return label if len(label) <= limit else label[: limit - 1].rstrip(" ,;:(") + "…"


def bar_chart(items: Sequence[Count], title: str, top: int = 15, colour: str = "#2471a3") -> str:
    """Horizontal bars of rates (%), largest at the top, as inline SVG."""
    shown = list(items[:top])[::-1]
    if not shown:
        return ""
    figure = Figure(figsize=(7.5, 0.32 * len(shown) + 1.0), dpi=100)
    axes = figure.subplots()
    positions = list(range(len(shown)))
    values = [c.rate * 100 for c in shown]
    axes.barh(positions, values, color=colour, height=0.65)
    axes.set_yticks(positions, [_short(c.label) for c in shown], fontsize=8)
    axes.set_xlim(0, max(values) * 1.18 + 0.5)
    axes.set_xlabel("% of patients", fontsize=8)
    axes.set_title(title, fontsize=10, loc="left")
    axes.spines[["top", "right"]].set_visible(False)
    for position, count in zip(positions, shown, strict=True):
        axes.text(
            count.rate * 100, position, f" {count.patients:,} ({count.rate * 100:.1f} %)", va="center", fontsize=7
        )
    return _svg(figure)


RATING_COLOURS = {"appropriate": "#1e8449", "uncertain": "#d4ac0d", "inappropriate": "#922b21"}


def rating_chart(rows: Sequence[CategoryRow], title: str) -> str:
    """One stacked bar per panel category: the shares rated appropriate, uncertain, inappropriate, as inline SVG."""
    if not rows:
        return ""
    shown = list(rows)[::-1]
    figure = Figure(figsize=(7.5, 0.45 * len(shown) + 1.3), dpi=100)
    axes = figure.subplots()
    positions = list(range(len(shown)))
    left = [0.0] * len(shown)
    for label, colour in RATING_COLOURS.items():
        values = [row.rate(label) * 100 for row in shown]
        axes.barh(positions, values, left=left, color=colour, height=0.6, label=label)
        for position, start, value in zip(positions, left, values, strict=True):
            if value >= 6:
                axes.text(
                    start + value / 2, position, f"{value:.0f} %", ha="center", va="center", fontsize=7, color="white"
                )
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_yticks(positions, [row.label for row in shown], fontsize=8)
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of assessed patients", fontsize=8)
    axes.set_title(title, fontsize=10, loc="left")
    axes.legend(fontsize=7, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.25), frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text stays text: smaller, searchable
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _category_table(rows: Sequence[CategoryRow]) -> str:
    body = "".join(
        f"<tr><td>{html.escape(r.label)}</td>"
        + "".join(f"<td class='n'>{getattr(r, label):,} ({r.rate(label) * 100:.1f} %)</td>" for label in RATING_COLOURS)
        + "</tr>"
        for r in rows
    )
    head = "<tr><th>category</th>" + "".join(f"<th>{label}</th>" for label in RATING_COLOURS) + "</tr>"
    return f"<table><thead>{head}</thead>{body}</table>"


def _table(items: Sequence[Count], what: str) -> str:
    if not items:
        return "<p class='none'>None.</p>"
    rows = "".join(
        f"<tr><td>{html.escape(c.label)}</td><td class='n'>{c.patients:,}</td>"
        f"<td class='n'>{c.rate * 100:.1f} %</td></tr>"
        for c in items
    )
    return f"<table><thead><tr><th>{html.escape(what)}</th><th>patients</th><th>rate</th></tr></thead>{rows}</table>"


def _section(title: str, note: str, chart: str, table: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2><p class='note'>{html.escape(note)}</p>{chart}{table}</section>"


def _clinic_table(rows: Sequence[ClinicRow]) -> str:
    care = any(r.scs_recommended_rate is not None for r in rows)

    def care_cells(r: ClinicRow) -> str:
        if not care:
            return ""
        rate = (r.scs_recommended_rate or 0.0) * 100
        return f"<td class='n'>{rate:.1f} %</td><td class='n'>{r.urgent_tests or 0:,}</td>"

    body = "".join(
        f"<tr><td>{html.escape(r.clinic)}</td><td class='n'>{r.patients:,}</td><td class='n'>{r.assessed:,}</td>"
        f"<td class='n'>{r.red_flag_rate * 100:.1f} %</td><td class='n'>{r.emergency:,}</td>"
        f"<td>{html.escape(r.leading_cause or '–')}</td><td class='n'>{r.unmapped_per_patient:.1f}</td>"
        f"{care_cells(r)}</tr>"
        for r in rows
    )
    head = (
        "<tr><th>clinic</th><th>patients</th><th>assessed</th><th>red flag rate</th><th>emergencies</th>"
        "<th>most frequent leading cause</th><th>unmapped items per patient</th>"
        + ("<th>SCS recommended</th><th>with an urgent test</th>" if care else "")
        + "</tr>"
    )
    return f"<table><thead>{head}</thead>{body}</table>"


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 980px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { padding: 0.2em 0.7em; border-bottom: 1px solid #eee; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
svg { max-width: 100%; height: auto; }
.note { color: #555; font-size: 0.9em; } .none { color: #777; }
.figures { display: flex; gap: 2em; flex-wrap: wrap; } .figures div { font-size: 0.9em; }
.figures b { display: block; font-size: 1.6em; }
"""


def cohort_report_html(summary: CohortSummary) -> str:
    """The report as one self-contained HTML page."""
    flagged = sum(c.patients for c in summary.triage if c.key != "none")
    figures = [
        ("patients", f"{summary.patients:,}"),
        ("assessed", f"{summary.assessed:,}"),
        ("with a red flag fired", f"{flagged:,}"),
        ("lines skipped", f"{summary.skipped_lines:,}"),
        ("unmapped items", f"{summary.unmapped:,}"),
    ]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Cohort report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Cohort screening report</h1>",
        f"<p class='note'>From {html.escape(summary.source)}. Knowledge base: "
        f"{html.escape('; '.join(summary.knowledge) or 'none')}. Decision support for clinicians: every rate counts "
        "patients whose records were assessed; a case still needs a clinician's review.</p>",
        "<div class='figures'>" + "".join(f"<div><b>{v}</b>{html.escape(k)}</div>" for k, v in figures) + "</div>",
        _section(
            "Red flags",
            "Patients in whom each red flag fired (one patient may have several), of those assessed.",
            bar_chart(summary.red_flags, "Red flags fired", colour="#c0392b"),
            _table(summary.red_flags, "red flag"),
        ),
        _section(
            "Triage",
            "The most urgent fired red flag of each assessed patient.",
            bar_chart(summary.triage, "Triage level", colour="#d35400"),
            _table(summary.triage, "triage level"),
        ),
        _section(
            "Leading cause",
            "The cause ranked first in each assessed patient's differential.",
            bar_chart(summary.causes, "Leading cause"),
            _table(summary.causes, "cause"),
        ),
        _section(
            "Causes among the top three",
            "Patients with the cause anywhere in their three most probable causes.",
            bar_chart(summary.causes_top3, "Cause in the top three", colour="#117a65"),
            _table(summary.causes_top3, "cause"),
        ),
        _section(
            "Ask now",
            "Red flags that could not be ruled out because a deciding item is unknown: ask these patients now.",
            bar_chart(summary.ask_now, "Red flags waiting on an answer", colour="#7d6608"),
            _table(summary.ask_now, "red flag"),
        ),
    ]
    if summary.advice:
        stopped = ""
        if summary.advice_stopped_by:
            stopped = "<p class='note'>What stopped the advice (one patient may have several):</p>" + _table(
                summary.advice_stopped_by, "contraindication"
            )
        parts.append(
            _section(
                "Spinal cord stimulation advice",
                "The SCS advice of each assessed patient; the advice is stopped while a contraindication is present.",
                bar_chart(summary.advice, "SCS advice", colour="#8e44ad"),
                _table(summary.advice, "advice") + stopped,
            )
        )
    if summary.categories:
        parts += [
            _section(
                "Treatment options",
                "How each panel category was rated (RAND/UCLA-style appropriateness) in the assessed patients.",
                rating_chart(summary.categories, "Option ratings by category"),
                _category_table(summary.categories),
            ),
            _section(
                "Options rated appropriate",
                "Patients in whom each specific option was rated appropriate; the uncertain ones follow in the table.",
                bar_chart(summary.appropriate_options, "Options rated appropriate", colour="#1e8449"),
                _table(summary.appropriate_options, "rated appropriate")
                + _table(summary.uncertain_options[:15], "rated uncertain (the 15 most frequent)"),
            ),
            _section(
                "Work-up needed",
                "The test to do next in each assessed patient: the first urgent test (called for by a fired red flag),"
                " else the one with the most value of information per unit of burden.",
                bar_chart(summary.next_tests, "Next test", colour="#1a5276"),
                _table(summary.next_tests, "next test"),
            ),
            _section(
                "Tests suggested",
                "Patients for whom each test is suggested anywhere in the work-up; urgent tests are listed below.",
                bar_chart(summary.suggested_tests, "Tests suggested", colour="#2e86c1"),
                _table(summary.urgent_tests, "urgent test"),
            ),
            _section(
                "Missing data",
                "Findings among the six questions that would move each patient's differential most. Open questions"
                f" per patient (all causes): {summary.missing_per_patient or 0.0:.1f} on average.",
                bar_chart(summary.missing, "Missing data to ask for next", colour="#7d6608"),
                _table(summary.missing[:25], "finding (the 25 most frequent)"),
            ),
        ]
    parts += [
        "<section><h2>By clinic</h2><p class='note'>The clinic is the patient's managing organization.</p>",
        _clinic_table(summary.clinics),
        "</section>",
        _section(
            "Not assessed",
            "Patients whose records could not become a case, and why.",
            "",
            _table(summary.statuses, "status") + _table(summary.problems, "reason"),
        ),
        "</body></html>",
    ]
    return "\n".join(parts)
