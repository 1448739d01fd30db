"""Report stage I/O: the analysis tables -> reports/figures/*.png|svg, reports/index.html,
reports/summary.md. Drawing and rendering live in figures.py, html.py and markdown.py."""

from __future__ import annotations

import hashlib
import sys

from pipeline.cache import StageState, code_fingerprint, sha256_file
from pipeline.config import Context
from pipeline.report import figures, html, markdown
from pipeline.report.data import TABLES, load, recommendation_rows
from pipeline.tableio import output_batch, write_bytes, write_text

FIGURE_NAMES = [name for name, _ in html.FIGURES]


def _fingerprint(ctx: Context) -> str:
    digest = hashlib.sha256()
    for name in TABLES:
        path = ctx.paths.table(name)
        digest.update(f"{name}:{sha256_file(path) if path.exists() else 'missing'}".encode())
    analysis = ctx.paths.processed / "analysis.json"
    digest.update((sha256_file(analysis) if analysis.exists() else "missing").encode())
    digest.update(ctx.settings.fingerprint("report").encode() if "report" in ctx.settings.values else b"")
    digest.update(code_fingerprint("report", "analyze/themes.py").encode())
    return digest.hexdigest()[:32]


def run(ctx: Context) -> list:
    """Draw the charts and write the HTML report and the Markdown summary."""
    processed, reports = ctx.paths.processed, ctx.paths.reports
    if not (processed / "theme_shares.csv").exists():
        raise SystemExit(
            f"error: {processed / 'theme_shares.csv'} not found: run `python -m pipeline analyze` first"
        )
    figures_dir = ctx.paths.figures
    outputs = [reports / "index.html", reports / "summary.md"]
    outputs += [figures_dir / f"{n}.{ext}" for n in FIGURE_NAMES for ext in ("png", "svg")]
    state = StageState(processed, "report")
    fingerprint = _fingerprint(ctx)
    if not ctx.force and state.up_to_date(fingerprint, outputs):
        print("report: up to date", file=sys.stderr)
        return outputs
    data = load(processed)
    confs = data.conferences
    drawn = {
        "theme_shift": figures.theme_shift(data["theme_shares"], confs),
        "theme_shares": figures.theme_shares(data["theme_shares"], confs),
        "keyness": figures.keyness(data["keyness"], confs),
        "entities": figures.entities(data["entity_counts"], confs),
        "recommendations_by_actor": figures.recommendations_by_actor(recommendation_rows(data), confs),
    }
    images = {name: figures.render(fig) for name, fig in drawn.items()}
    with output_batch():  # charts and pages appear together or not at all
        for name, formats in images.items():
            for ext, content in formats.items():
                write_bytes(figures_dir / f"{name}.{ext}", content)
        pngs = {name: formats["png"] for name, formats in images.items()}
        write_text(reports / "index.html", html.render(data, pngs))
        write_text(reports / "summary.md", markdown.render(data))
        state.record(fingerprint)
    print(
        f"report: {reports / 'index.html'}, {reports / 'summary.md'}, {len(FIGURE_NAMES) * 2} figures",
        file=sys.stderr,
    )
    return outputs
