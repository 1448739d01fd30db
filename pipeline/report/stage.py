"""Report stage I/O: the analysis tables -> reports/figures/*.png|svg, reports/index.html,
reports/summary.md. Drawing and rendering live in figures.py, html.py and markdown.py.

matplotlib is imported only when the report is redrawn: the up-to-date check comes first.
"""

from __future__ import annotations

import sys
from typing import cast

from pipeline.cache import Step
from pipeline.config import Context
from pipeline.report import html, markdown
from pipeline.report.data import TABLES, ReportData, load, recommendation_rows
from pipeline.runner import fork_map
from pipeline.tableio import output_batch, write_bytes, write_text

FIGURE_NAMES = [name for name, _ in html.FIGURES]


STEP = Step(
    "report",
    inputs=lambda ctx: [*(ctx.paths.table(n) for n in TABLES), ctx.paths.processed / "analysis.json"],
    outputs=lambda ctx: [
        ctx.paths.reports / "index.html",
        ctx.paths.reports / "summary.md",
        *(ctx.paths.figures / f"{n}.{ext}" for n in FIGURE_NAMES for ext in ("png", "svg")),
    ],
    code_paths=("report", "analyze/themes.py"),  # themes: the labels' term lists (distinct_terms)
)


# Charts and pages are independent pieces of work, done over --jobs processes; the
# slowest first, so the processes finish together
PIECES = (
    "keyness", "entities", "recommendations_by_actor", "html", "theme_shares", "theme_shift", "markdown",
)  # fmt: skip


def make(data: ReportData, piece: str) -> dict[str, bytes] | str:
    """One chart as PNG and SVG bytes, or the HTML page (charts left out, for ``html.embed``)
    or the Markdown summary (in a worker process, or here)."""
    from pipeline.report import figures

    confs = data.conferences
    if piece == "html":
        return html.render(data, None)
    if piece == "markdown":
        return markdown.render(data)
    if piece == "theme_shift":
        fig = figures.theme_shift(data["theme_shares"], confs)
    elif piece == "theme_shares":
        fig = figures.theme_shares(data["theme_shares"], confs)
    elif piece == "keyness":
        fig = figures.keyness(data["keyness"], confs)
    elif piece == "entities":
        fig = figures.entities(data["entity_counts"], confs)
    else:
        fig = figures.recommendations_by_actor(recommendation_rows(data), confs)
    return figures.render(fig)


def _make_all(data: ReportData, jobs: int) -> dict[str, dict[str, bytes] | str]:
    """Every piece, over ``jobs`` processes; what each holds does not depend on where it
    was made."""
    import pipeline.report.figures  # noqa: F401  (imported once here, inherited by the workers)

    return dict(zip(PIECES, fork_map(make, PIECES, data, jobs=jobs), strict=True))


def run(ctx: Context) -> list:
    """Draw the charts and write the HTML report and the Markdown summary."""
    processed, reports = ctx.paths.processed, ctx.paths.reports
    if not (processed / "theme_shares.csv").exists():
        raise SystemExit(
            f"error: {processed / 'theme_shares.csv'} not found: run `python -m pipeline analyze` first"
        )
    figures_dir = ctx.paths.figures
    outputs = list(STEP.outputs(ctx))
    fingerprint = STEP.fingerprint(ctx)
    if STEP.up_to_date(ctx, fingerprint):
        print("report: up to date", file=sys.stderr)
        return outputs
    data = load(processed)
    made = _make_all(data, ctx.jobs)
    images = {name: cast(dict[str, bytes], made[name]) for name in FIGURE_NAMES}
    with output_batch():  # charts and pages appear together or not at all
        for name, formats in images.items():
            for ext, content in formats.items():
                write_bytes(figures_dir / f"{name}.{ext}", content)
        pngs = {name: formats["png"] for name, formats in images.items()}
        write_text(reports / "index.html", html.embed(cast(str, made["html"]), pngs))
        write_text(reports / "summary.md", cast(str, made["markdown"]))
        STEP.record(ctx, fingerprint)
    print(
        f"report: {reports / 'index.html'}, {reports / 'summary.md'}, {len(FIGURE_NAMES) * 2} figures",
        file=sys.stderr,
    )
    return outputs
