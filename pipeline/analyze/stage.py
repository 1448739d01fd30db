"""Analyze stage I/O: the documented tables in processed/ -> themes, shares, keyness,
recurring recommendations and entity counts (see docs/analysis.md for every column).

Reads documents.csv and units.csv (required), entities.csv and recommendations.csv (when
the extraction has written them); writes its own tables only (the theme of each
recommendation goes to recommendation_themes.csv). All analysis lives in the pure modules
beside this one; this module only reads and writes.

Importing this module is cheap: the up-to-date check runs first, and spaCy, scikit-learn
and SciPy (through the analysis modules) are imported only when there is work to do, so a
run with nothing changed finishes in well under a second per stage.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.analyze.term_cache import Terms, features_fingerprint, term_units, unit_features, unit_terms
from pipeline.analyze.theme_history import MODEL_FILE
from pipeline.cache import DocumentCache, Step
from pipeline.config import Context
from pipeline.tableio import output_batch, read_table, write_table, write_text

if TYPE_CHECKING:
    from pipeline.analyze.recurrence import Recurrence, Rule, Vocabulary
    from pipeline.analyze.themes import ThemeSettings

INPUTS = ("documents", "units", "entities", "recommendations")
OUTPUTS = (
    "themes", "theme_shares", "unit_themes", "theme_models", "theme_changes", "keyness",
    "recurring_recommendations", "recommendations_not_taken_up", "recurrence_by_edition",
    "entity_counts", "recommendation_themes",
)  # fmt: skip
ENTITY_COLUMNS = ["doc_id", "unit_id", "text", "label", "canonical", "iso3", "kind", "in_boilerplate"]
RECOMMENDATION_COLUMNS = ["doc_id", "unit_id", "text", "actor", "cue"]
RECOMMENDATION_THEME_COLUMNS = ["doc_id", "unit_id", "theme", "theme_label"]


def _read_optional(path: Path, columns: list[str]) -> pd.DataFrame:
    if path.exists():
        return read_table(path, columns)
    return pd.DataFrame(columns=columns)


STEP = Step(
    "analyze",
    inputs=lambda ctx: [ctx.paths.table(n) for n in INPUTS],
    outputs=lambda ctx: [
        *(ctx.paths.table(n) for n in OUTPUTS),
        ctx.paths.processed / "analysis.json",
        ctx.paths.processed / MODEL_FILE,  # the kept theme model: deleting it fits the themes afresh
    ],
    settings_sections=("analyze", "extract"),  # extract: the spaCy model the terms come from
    code_paths=("analyze", "nlp.py"),
    knowledge=("theme_stopwords.txt", "advice_words.txt", "concepts.txt"),
)


def run(ctx: Context) -> dict:
    """Analyse the processed tables; write the analysis tables (see docs/analysis.md)."""
    paths = ctx.paths
    for name in ("documents", "units"):
        if not paths.table(name).exists():
            raise SystemExit(f"error: {paths.table(name)} not found: run `python -m pipeline ingest` first")
    fingerprint = STEP.fingerprint(ctx)
    if STEP.up_to_date(ctx, fingerprint):
        print("analyze: up to date", file=sys.stderr)
        return json.loads((paths.processed / "analysis.json").read_text(encoding="utf-8"))
    from pipeline.runner import fork_map

    settings = dict(ctx.settings["analyze"])
    found = _read_inputs(ctx, settings)
    results = fork_map(_one_analysis, ANALYSES, found, jobs=ctx.jobs)
    return _write_outputs(ctx, found, dict(zip(ANALYSES, results, strict=True)), fingerprint)


THEME_UNIT_COLUMNS = ("doc_id", "unit_id", "conference", "year", "text")


@dataclass
class AnalysisInputs:
    """Everything the analyses read, as the stage found it. The analyses run in forked
    workers, which inherit it rather than receive a copy (``runner.fork_map``)."""

    confs: pd.DataFrame  # one row per document with its conference (``corpus.conferences``)
    conference_list: pd.DataFrame
    units: pd.DataFrame
    entities: pd.DataFrame
    recs: pd.DataFrame | None  # recommendations.csv; None when extract has not written it
    content: pd.DataFrame  # the content units (THEME_UNIT_COLUMNS), in the theme model's row order
    content_conference_order: list[int]
    content_terms: list[list[str]]  # the nominal terms of each content unit
    content_features: list[list[str]]  # what themes compare (``themes.theme_features``)
    is_recommendation: list[bool]  # per content unit
    content_entities: list[list[tuple[str, str]]]  # each content unit's (mention, canonical name)
    content_groups: list[str]  # each content unit's document content hash
    display: dict[str, str]  # phrase -> its most frequent written form (``display_table``)
    others: list[tuple[str, str]]  # recommendations that are not content units
    others_features: list[list[str]]  # their ``themes.theme_features``
    terms: Terms
    vocabulary: Vocabulary
    features: dict[tuple[str, str], list[str]]  # what recurrence compares of each unit
    rule: Rule  # when a later recommendation takes up an earlier one
    series: dict[str, str]  # doc_id -> its conference series ("" = linked to none)
    theme_settings: ThemeSettings
    meeting_names: list[str]  # names, venues, organizers: left out of themes (``themes.meeting_names``)
    settings: dict  # the [analyze] section
    processed: str  # where the kept theme model is read from
    cache_root: str
    features_fingerprint: str
    jobs: int


def _read_inputs(ctx: Context, settings: dict) -> AnalysisInputs:
    from pipeline.analyze.corpus import conference_list, conferences, content_units
    from pipeline.analyze.recurrence import Rule, Vocabulary, load_concepts, series_of
    from pipeline.analyze.terms import display_table, load_word_list
    from pipeline.analyze.themes import ThemeSettings, meeting_names, theme_features

    paths = ctx.paths
    documents = read_table(paths.table("documents"))
    units = read_table(paths.table("units"), ["doc_id", "unit_id", "kind", "text", "section", "block"])
    entities = _read_optional(paths.table("entities"), ENTITY_COLUMNS)
    has_recs = paths.table("recommendations").exists()
    recs = _read_optional(paths.table("recommendations"), RECOMMENDATION_COLUMNS)

    confs = conferences(documents)
    content = content_units(units, confs)

    # one spaCy pass over every unit any analysis looks at, for the documents not cached:
    # the sentences and list items and any other unit a recommendation is
    rec_keys = list(zip(recs["doc_id"], recs["unit_id"].astype(str), strict=True))
    terms, by_document = unit_terms(ctx, units, set(term_units(units)) | set(rec_keys))
    content_keys = list(zip(content["doc_id"], content["unit_id"], strict=True))
    vocabulary = Vocabulary(load_word_list("advice_words.txt"), load_concepts())
    in_content = set(content_keys)
    is_recommendation = set(rec_keys)
    # a recommendation that is not a content unit (a heading, say) gets the closest theme
    others = [k for k in rec_keys if k not in in_content and k in terms]
    return AnalysisInputs(
        confs=confs,
        conference_list=conference_list(confs),
        units=units,
        entities=entities,
        recs=recs if has_recs else None,
        content=content[list(THEME_UNIT_COLUMNS)],
        content_conference_order=content["conference_order"].tolist(),
        content_terms=[terms[k].nominal for k in content_keys],
        content_features=[theme_features(terms[k].words, terms[k].phrases) for k in content_keys],
        is_recommendation=[k in is_recommendation for k in content_keys],
        content_groups=[by_document[d][0] for d in content["doc_id"]],
        display=display_table(terms[k] for k in content_keys),
        others=others,
        others_features=[theme_features(terms[k].words, terms[k].phrases) for k in others],
        terms=terms,
        vocabulary=vocabulary,
        features=unit_features(ctx, by_document, terms, vocabulary),
        rule=Rule.from_settings(settings),
        series=series_of(documents, confs, str(settings.get("recurrence_scope", "series"))),
        theme_settings=ThemeSettings.from_settings(settings),
        meeting_names=meeting_names(documents),
        settings=settings,
        processed=str(paths.processed),
        cache_root=str(paths.cache),
        features_fingerprint=features_fingerprint(ctx.settings),
        jobs=ctx.jobs,
        content_entities=_mentions_by_unit(entities, content_keys),
    )


# The corpus-level analyses, run side by side; the slowest first.
ANALYSES = ("themes", "recurrence", "keyness")


def _one_analysis(found: AnalysisInputs, name: str) -> object:
    """One of ``ANALYSES`` (in a forked worker, or here)."""
    if name == "themes":
        return _themes(found)
    if name == "recurrence":
        return _recurrence(found)
    return _keyness(found)


@dataclass
class ThemeResult:
    """The theme tables, and the theme of recommendations that are not content units:
    plain tables, so the process that receives them need not import scikit-learn."""

    themes: pd.DataFrame
    unit_themes: pd.DataFrame
    shares: pd.DataFrame
    selection: pd.DataFrame
    method: str
    k: int
    other_units: dict[tuple[str, str], str]
    changes: pd.DataFrame  # earlier shares a re-fit moved (``theme_history.theme_changes``)
    stability: dict  # analysis.json's "theme_stability"
    model_json: str  # the model to keep for the next run; empty when it is unchanged


def _themes(found: AnalysisInputs) -> ThemeResult:
    """The theme tables (``theme_run.run_themes``)."""
    from pipeline.analyze.theme_run import run_themes

    return run_themes(found)


def _keyness(found: AnalysisInputs) -> pd.DataFrame:
    """Distinctive terms of each conference (``keyness.keyness``)."""
    from pipeline.analyze.keyness import keyness

    return keyness(
        found.content_terms,
        found.content_conference_order,
        found.conference_list,
        alpha=float(found.settings.get("keyness_alpha", 0.05)),
        min_freq=int(found.settings.get("keyness_min_freq", 3)),
        unit_entities=found.content_entities,
    )


def _mentions_by_unit(entities: pd.DataFrame, keys: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Each unit's entity mentions as (text, canonical name), for keyness."""
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    columns = (entities["doc_id"], entities["unit_id"].astype(str), entities["text"], entities["canonical"])
    for doc_id, unit_id, text, canonical in zip(*columns, strict=True):
        found.setdefault((doc_id, unit_id), []).append((text, canonical))
    return [found.get(k, []) for k in keys]


def _recurrence(found: AnalysisInputs) -> Recurrence:
    """Recurring recommendations (``recurrence.find_recurring``)."""
    from pipeline.analyze.recurrence import find_recurring
    from pipeline.analyze.terms import UnitTerms

    terms, features, vocabulary = found.terms, found.features, found.vocabulary

    def features_of(doc_id: str, unit_id: str) -> list[str]:
        compared = features.get((doc_id, unit_id))
        if compared is None:
            compared = vocabulary.features([terms.get((doc_id, unit_id), UnitTerms())])
        return compared

    recs = found.recs if found.recs is not None else pd.DataFrame(columns=RECOMMENDATION_COLUMNS)
    content_keys = zip(found.content["doc_id"], found.content["unit_id"], strict=True)
    # each document's weighted query terms, kept between runs
    queries = DocumentCache(Path(found.cache_root), "analyze-queries", found.features_fingerprint)
    result = find_recurring(
        recs[["doc_id", "unit_id", "text"]].astype(str),
        found.units,
        found.confs,
        lambda d, u: terms.get((d, u), UnitTerms()),
        vocabulary,
        [features[k] for k in content_keys],
        found.rule,
        found.series,
        features_of,
        queries,
    )
    queries.prune()
    return result


def _write_outputs(
    ctx: Context, found: AnalysisInputs, results: dict[str, Any], fingerprint: str
) -> dict:
    """Every analysis table and analysis.json, published together."""
    from pipeline.analyze.entity_counts import ENTITY_COUNT_COLUMNS, entity_counts
    from pipeline.analyze.recurrence import BY_EDITION_COLUMNS, NOT_TAKEN_UP_COLUMNS, PAIR_COLUMNS

    paths = ctx.paths
    themed: ThemeResult = results["themes"]
    recurrence: Recurrence = results["recurrence"]
    pairs, rule = recurrence.pairs, recurrence.rule
    key = results["keyness"]
    no_entities = pd.DataFrame(columns=ENTITY_COUNT_COLUMNS)
    counts = entity_counts(found.entities, found.confs) if len(found.entities) else no_entities
    recs = found.recs if found.recs is not None else pd.DataFrame(columns=RECOMMENDATION_COLUMNS)
    summary = {
        "n_documents": int(len(found.confs)),
        "n_conferences": int(len(found.conference_list)),
        "n_content_units": int(len(found.content)),
        "n_unassigned_units": int((themed.unit_themes["theme"] == "").sum()),
        "theme_method": themed.method,
        "n_themes": int(themed.k),
        "n_themes_setting": str(found.theme_settings.n_themes),
        "theme_stability": themed.stability,
        "run_date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "corpus": {"documents": int(len(found.confs)), "conferences": int(len(found.conference_list))},
        "recommendations_table": found.recs is not None,
        "entities_table": paths.table("entities").exists(),
        "n_recommendations": int(len(recs)),
        "recurrence_threshold": rule.threshold,
        "recurrence_margin": rule.margin,
        "recurrence_threshold_source": rule.source,
        "recurrence_scope": str(found.settings.get("recurrence_scope", "series")),
        "n_recurring_pairs": int(len(pairs)),
    }
    with output_batch():  # the analysis tables appear together or not at all
        write_table(key, paths.table("keyness"))
        write_table(counts, paths.table("entity_counts"))
        write_table(themed.themes, paths.table("themes"))
        write_table(themed.shares, paths.table("theme_shares"))
        write_table(themed.unit_themes, paths.table("unit_themes"))
        write_table(themed.selection, paths.table("theme_models"))
        write_table(themed.changes, paths.table("theme_changes"))
        if themed.model_json:
            write_text(paths.processed / MODEL_FILE, themed.model_json)
        write_table(recommendation_themes(recs, themed), paths.table("recommendation_themes"))
        write_table(pairs[PAIR_COLUMNS], paths.table("recurring_recommendations"))
        not_taken = recurrence.not_taken_up[NOT_TAKEN_UP_COLUMNS]
        write_table(not_taken, paths.table("recommendations_not_taken_up"))
        write_table(recurrence.by_edition[BY_EDITION_COLUMNS], paths.table("recurrence_by_edition"))
        write_text(paths.processed / "analysis.json", json.dumps(summary, indent=2, default=_json))
        STEP.record(ctx, fingerprint)
    if themed.stability["message"]:
        print(themed.stability["message"], file=sys.stderr)
    print(
        f"analyze: {summary['n_content_units']} units in {summary['n_conferences']} conferences, "
        f"{themed.k} themes ({themed.method}), {len(key)} keyness rows, {len(pairs)} recurring "
        f"recommendations (threshold {rule.threshold:g}, margin {rule.margin:g}: {rule.source})",
        file=sys.stderr,
    )
    return summary


def recommendation_themes(recs: pd.DataFrame, themed: ThemeResult) -> pd.DataFrame:
    """One row per recommendation: its theme and that theme's label.

    A recommendation that is a content unit has that unit's theme; any other (a heading,
    say) gets the theme whose term profile is closest."""
    unit_themes, themes = themed.unit_themes, themed.themes
    keys = list(zip(recs["doc_id"], recs["unit_id"], strict=True))
    by_unit = dict(
        zip(
            zip(unit_themes["doc_id"], unit_themes["unit_id"], strict=True), unit_themes["theme"], strict=True
        )
    )
    by_unit.update(themed.other_units)
    labels = dict(zip(themes["theme"], themes["label"], strict=True))
    theme = pd.Series([by_unit.get(k, "") for k in keys], dtype=object)
    return pd.DataFrame(
        {
            "doc_id": recs["doc_id"].tolist(),
            "unit_id": recs["unit_id"].tolist(),
            "theme": theme,
            "theme_label": theme.map(labels).fillna(""),
        },
        columns=RECOMMENDATION_THEME_COLUMNS,
    )


def _json(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
