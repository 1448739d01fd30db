"""Scores against hand-labelled gold corpora: ``python -m pipeline evaluate`` / ``make evaluate``.

Every gold corpus (default: those of tests/gold; ``--gold PATH`` any other, see
``corpus.py``) is run through ingest -> extract -> analyze in a scratch folder, never the
user's processed/, and scored per task with precision, recall and F1 next to two baselines
(plain spaCy NER, a should/must/could rule), with actor accuracy on the recommendations
found, and when the gold has them: metadata per document, recurring recommendations and
theme agreement. When only some of a corpus's documents belong to a conference series (their
gold names a conference), recurrence and themes are scored again on a run of those documents
alone: standalone documents of other years would count as conferences of their own. ``--json
FILE`` writes the same figures for machines. The scoring rules are
pure functions in ``scoring.py``.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.config import Context
from pipeline.evaluate.baselines import keyword_predictions, plain_ner_predictions
from pipeline.evaluate.corpus import (
    GoldCorpus,
    GoldError,
    default_corpora,
    load_corpus,
    run_pipeline,
    series_corpus,
    stage_documents,
)
from pipeline.evaluate.scoring import (
    METADATA_FIELDS,
    TASKS,
    Predictions,
    Score,
    actor_agreement,
    metadata_hits,
    normalise_unit_text,
    score_document,
    score_recurrence,
    theme_agreement,
)
from pipeline.extract.gazetteer import Knowledge, load_knowledge
from pipeline.tableio import read_table

__all__ = ["evaluate_gold_file", "main", "normalise_unit_text"]
ORGANIZATION_KIND = "organization"


@dataclass
class SeriesReport:
    """Recurrence and theme figures of a corpus's conference series run alone."""

    n_documents: int
    recurrence: Score | None = None
    themes: dict | None = None

    def as_dict(self) -> dict:
        return {
            "documents": self.n_documents,
            "recurrence": self.recurrence.as_dict() if self.recurrence else None,
            "themes": self.themes,
        }


@dataclass
class CorpusReport:
    """The figures of one gold corpus."""

    name: str
    n_documents: int
    systems: dict[str, dict[str, Score | None]]
    missing: list[str] = field(default_factory=list)
    actor: tuple[int, int] = (0, 0)
    metadata: dict[str, tuple[int, int]] = field(default_factory=dict)
    recurrence: Score | None = None
    themes: dict | None = None
    series: SeriesReport | None = None

    def as_dict(self) -> dict:
        hits, total = self.actor
        return {
            "corpus": self.name,
            "documents": self.n_documents,
            "missing": self.missing,
            "systems": {
                name: {task: score.as_dict() for task, score in tasks.items() if score is not None}
                for name, tasks in self.systems.items()
            },
            "actor": {"agree": hits, "found": total, "accuracy": round(hits / total, 4) if total else None},
            "metadata": {name: {"correct": c, "total": t} for name, (c, t) in self.metadata.items()},
            "recurrence": self.recurrence.as_dict() if self.recurrence else None,
            "themes": self.themes,
            "series_alone": self.series.as_dict() if self.series else None,
        }


# --------------------------------------------------------------------------- the project's tables


def _table(ctx: Context, name: str) -> pd.DataFrame | None:
    path = ctx.paths.table(name)
    return read_table(path) if path.is_file() else None


def project_predictions(entities: pd.DataFrame, recommendations: pd.DataFrame, doc_id: str) -> Predictions:
    """The project's answer for one document. Every mention counts, in boilerplate too (the
    guidelines count a country named in an address); programmes, regimes and treaties
    (``kind``) are not organizations."""
    ents = entities[entities["doc_id"] == doc_id]
    kinds = ents["kind"] if "kind" in ents.columns else pd.Series(ORGANIZATION_KIND, index=ents.index)
    organizations = (ents["label"] == "ORG") & kinds.isin([ORGANIZATION_KIND, ""])
    return Predictions(
        recommendations=list(recommendations.loc[recommendations["doc_id"] == doc_id, "text"]),
        countries=set(ents.loc[ents["label"] == "COUNTRY", "iso3"]),
        organizations=set(ents.loc[organizations, "canonical"]),
        regions=set(ents.loc[ents["label"] == "REGION", "canonical"]),
    )


def match_documents(gold_docs: dict, documents: pd.DataFrame) -> dict[str, str]:
    """Gold source name -> doc_id, by the source path or, failing that, the file name."""
    by_source = dict(zip(documents["source"], documents["doc_id"], strict=True))
    by_name = {Path(s).name: d for s, d in by_source.items()}
    found = {}
    for source in gold_docs:
        doc_id = by_source.get(source) or by_name.get(Path(source).name)
        if doc_id:
            found[source] = doc_id
    return found


def score_processed(
    gold: dict, ctx: Context, knowledge: Knowledge, baselines: bool, themes: list[dict] | None = None
) -> CorpusReport:
    """Every figure of one gold corpus against the tables in ``ctx.paths.processed``."""
    documents = read_table(ctx.paths.table("documents"))
    units = read_table(ctx.paths.table("units"))
    entities = read_table(ctx.paths.table("entities"))
    recommendations = read_table(ctx.paths.table("recommendations"))
    matched = match_documents(gold["docs"], documents)
    model = str(ctx.settings["extract"].get("model", "en_core_web_sm"))
    systems: dict[str, dict[str, Score | None]] = {"project": {}}
    if baselines:
        systems[f"plain {model} NER"] = {}
        systems["should/must/could"] = {}
    actor_hits = actor_total = 0
    metadata: dict[str, tuple[int, int]] = {}
    rows = {row["doc_id"]: row for row in documents.to_dict("records")}
    for source, doc_id in matched.items():
        gold_doc = gold["docs"][source]
        doc_units = units[units["doc_id"] == doc_id]
        runs = {"project": project_predictions(entities, recommendations, doc_id)}
        if baselines:
            runs[f"plain {model} NER"] = plain_ner_predictions(doc_units, model)
            runs["should/must/could"] = keyword_predictions(doc_units)
        for name, predictions in runs.items():
            for task, score in score_document(predictions, gold_doc, knowledge).items():
                if score is not None:
                    previous = systems[name].get(task)
                    systems[name][task] = score if previous is None else previous + score
        hits, total = actor_agreement(recommendations[recommendations["doc_id"] == doc_id], gold_doc)
        actor_hits, actor_total = actor_hits + hits, actor_total + total
        for name, hit in metadata_hits(rows[doc_id], gold_doc).items():
            correct, seen = metadata.get(name, (0, 0))
            metadata[name] = (correct + hit, seen + 1)
    pairs = _table(ctx, "recurring_recommendations")
    return CorpusReport(
        name="",
        n_documents=len(matched),
        systems=systems,
        missing=[s for s in gold["docs"] if s not in matched],
        actor=(actor_hits, actor_total),
        metadata={name: metadata[name] for name in METADATA_FIELDS if name in metadata},
        recurrence=score_recurrence(pairs, gold["recurring_recommendations"])
        if pairs is not None and gold.get("recurring_recommendations")
        else None,
        themes=_theme_figures(ctx, themes, matched, recommendations, units) if themes else None,
    )


def evaluate_gold_file(
    path: Path, ctx: Context, knowledge: Knowledge, baselines: bool
) -> tuple[dict[str, dict[str, Score | None]], list[str], tuple[int, int]]:
    """Summed scores per system over the documents of one gold file, against the tables
    already in ``ctx.paths.processed``: (systems, sources not processed, actor agreement)."""
    report = score_processed(json.loads(Path(path).read_text(encoding="utf-8")), ctx, knowledge, baselines)
    return report.systems, report.missing, report.actor


def _project_themes(ctx: Context, recommendations: pd.DataFrame) -> dict[tuple[str, str], str]:
    """(doc_id, unit_id) -> theme: recommendation_themes.csv when analyze wrote it, else the
    ``theme`` column of recommendations.csv, then unit_themes.csv for the other units."""
    themes: dict[tuple[str, str], str] = {}
    unit_themes = _table(ctx, "unit_themes")
    rec_themes = _table(ctx, "recommendation_themes")
    if rec_themes is None and "theme" in recommendations.columns:
        rec_themes = recommendations
    for table in (unit_themes, rec_themes):
        if table is not None:
            themes.update(
                zip(zip(table["doc_id"], table["unit_id"], strict=True), table["theme"], strict=True)
            )
    return {key: theme for key, theme in themes.items() if str(theme).strip()}


def _theme_figures(
    ctx: Context,
    coded: list[dict],
    matched: dict[str, str],
    recommendations: pd.DataFrame,
    units: pd.DataFrame,
) -> dict:
    """AMI between a reader's themes of the firm recommendations and the project's themes of
    the same units (found by their text)."""
    project = _project_themes(ctx, recommendations)
    unit_of = {
        (doc_id, normalise_unit_text(text)): unit_id
        for table in (units, recommendations)
        for doc_id, unit_id, text in zip(table["doc_id"], table["unit_id"], table["text"], strict=True)
    }
    pairs = []
    for item in coded:
        doc_id = matched.get(item.get("doc", ""))
        if doc_id is None:
            continue
        unit_id = unit_of.get((doc_id, normalise_unit_text(item.get("text", ""))))
        theme = project.get((doc_id, unit_id)) if unit_id is not None else None
        if theme is not None:
            pairs.append((str(item.get("theme", "")), str(theme)))
    ami = theme_agreement(pairs)
    return {"ami": None if ami is None else round(ami, 4), "matched": len(pairs), "coded": len(coded)}


# --------------------------------------------------------------------------- one corpus


def evaluate_corpus(corpus: GoldCorpus, ctx: Context, knowledge: Knowledge, baselines: bool) -> CorpusReport:
    """Run the pipeline on the corpus's documents in a scratch folder and score it; then its
    conference series alone, when it has one and the gold scores recurrence or themes."""
    themes = json.loads(corpus.themes_file.read_text(encoding="utf-8")) if corpus.themes_file else None
    with tempfile.TemporaryDirectory(prefix="evaluate-") as scratch:
        workdir = Path(scratch)
        report = _run_and_score(corpus, ctx, workdir / "all", knowledge, baselines, themes)
        series = series_corpus(corpus)
        scores_series = bool(corpus.gold.get("recurring_recommendations") or themes)
        if report.n_documents and series is not None and scores_series:
            # the documents' ingest and extract results are reused from the run above
            shutil.copytree(_scratch_cache(workdir / "all"), _scratch_cache(workdir / "series"))
            coded = [item for item in themes or [] if item.get("doc") in series.gold["docs"]]
            alone = _run_and_score(series, ctx, workdir / "series", knowledge, False, coded or None)
            report.series = SeriesReport(alone.n_documents, alone.recurrence, alone.themes)
    report.name = display_path(corpus.path)
    return report


def _scratch_cache(workdir: Path) -> Path:
    """The per-document cache of a scratch run in ``workdir``."""
    return workdir / "processed" / ".cache"


def _run_and_score(
    corpus: GoldCorpus,
    ctx: Context,
    workdir: Path,
    knowledge: Knowledge,
    baselines: bool,
    themes: list[dict] | None,
) -> CorpusReport:
    not_found = stage_documents(corpus, workdir / "raw")
    if len(not_found) == len(corpus.sources):
        return CorpusReport(name="", n_documents=0, systems={}, missing=not_found)
    run_ctx = run_pipeline(ctx, workdir)
    return score_processed(corpus.gold, run_ctx, knowledge, baselines, themes)


def display_path(path: Path) -> str:
    """The path relative to the working directory when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- printing


def format_table(title: str, systems: dict[str, dict[str, Score | None]]) -> str:
    """Systems side by side, precision / recall / F1 per task ("—": not attempted)."""
    widths = {name: max(len(name) + 3, 21) for name in systems}
    header = f"{'':<17}" + "".join(f"{name:<{widths[name]}}" for name in systems)
    columns = f"{'task':<17}" + "".join(f"{'P':>5}{'R':>6}{'F1':>6}".ljust(widths[n]) for n in systems)
    lines = [title, "", header.rstrip(), columns.rstrip()]
    for task in TASKS:
        cells = []
        for name in systems:
            score = systems[name].get(task)
            cell = f"{'—':>5}" if score is None else _cells(score)
            cells.append(cell.ljust(widths[name]))
        lines.append(f"{task:<17}" + "".join(cells).rstrip())
    return "\n".join(lines)


def _cells(score: Score) -> str:
    return f"{score.precision:5.2f}{score.recall:6.2f}{score.f1:6.2f}"


def format_report(report: CorpusReport) -> str:
    lines = [format_table(f"{report.name} — {report.n_documents} documents", report.systems)]
    hits, total = report.actor
    if total:
        lines.append(
            f"\nactor agrees with the gold on {hits} of {total} recommendations found ({hits / total:.0%})"
        )
    if report.metadata:
        counts = ", ".join(f"{name} {c}/{t}" for name, (c, t) in report.metadata.items())
        lines.append(f"metadata per document: {counts}")
    # recurrence and themes of the series alone when it was run (--json keeps both)
    scope = report.series or report
    label = f" (series alone: {scope.n_documents} documents)" if report.series else ""
    if scope.recurrence is not None:
        lines.append(_recurrence_line(f"recurring recommendations{label}", scope.recurrence))
    if scope.themes is not None:
        lines.append(_theme_line(f"themes{label}", scope.themes))
    lines.extend(f"note: {source} is in the gold file but was not found" for source in report.missing)
    return "\n".join(lines) + "\n"


def _recurrence_line(label: str, r: Score) -> str:
    return (
        f"{label}: P {r.precision:.2f} R {r.recall:.2f} F1 {r.f1:.2f} "
        f"({r.tp} of {r.tp + r.fn} gold pairs found; {r.fp} other pairs)"
    )


def _theme_line(label: str, t: dict) -> str:
    ami = "n/a" if t["ami"] is None else f"{t['ami']:.2f}"
    return (
        f"{label}: adjusted mutual information {ami} with the reader's coding "
        f"({t['matched']} of {t['coded']} coded recommendations matched)"
    )


def main(
    ctx: Context,
    gold_files: list[Path] | None = None,
    baselines: bool = True,
    json_path: Path | None = None,
) -> int:
    """Print the figures of every gold corpus; 0 unless a named gold path cannot be read
    (a report, not a gate)."""
    errors = 0
    if gold_files:
        corpora = []
        for path in gold_files:
            try:
                corpora.append(load_corpus(Path(path), [ctx.paths.raw]))
            except GoldError as error:
                print(f"evaluate: {error}", file=sys.stderr)
                errors += 1
    else:
        corpora = default_corpora()
    if not corpora:
        print("evaluate: no gold corpus found (expected tests/gold/*.json or --gold PATH)", file=sys.stderr)
        return 1 if errors else 0
    knowledge = load_knowledge(ctx.settings["extract"].get("data_dir") or None)
    reports = []
    for corpus in corpora:
        report = evaluate_corpus(corpus, ctx, knowledge, baselines)
        reports.append(report)
        print(format_report(report), flush=True)
    if json_path is not None:
        Path(json_path).write_text(
            json.dumps([r.as_dict() for r in reports], indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    return 1 if errors else 0
