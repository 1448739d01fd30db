"""Analyze stage I/O: the documented tables in processed/ -> themes, shares, keyness,
recurring recommendations and entity counts (see docs/analysis.md for every column).

Reads documents.csv and units.csv (required), entities.csv and recommendations.csv (when
the extraction has written them); fills the ``theme`` column of recommendations.csv. All
analysis lives in the pure modules beside this one; this module only reads and writes.
"""

from __future__ import annotations

import glob
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.analyze.corpus import conference_list, conferences, content_units
from pipeline.analyze.entity_counts import ENTITY_COUNT_COLUMNS, entity_counts
from pipeline.analyze.keyness import keyness
from pipeline.analyze.recurrence import (
    NOT_TAKEN_UP_COLUMNS,
    PAIR_COLUMNS,
    Vocabulary,
    find_recurring,
    load_concepts,
    load_gold_pairs,
)
from pipeline.analyze.terms import TermExtractor, UnitTerms, display_forms, load_word_list
from pipeline.analyze.themes import ThemeSettings, assign_themes, fit_themes, theme_shares, theme_tables
from pipeline.cache import PACKAGE_DIR, DocumentCache, StageState, code_fingerprint, sha256_file, sha256_text
from pipeline.config import Context
from pipeline.nlp import load_model
from pipeline.tableio import output_batch, read_table, write_bytes, write_table, write_text

INPUTS = ("documents", "units", "entities", "recommendations")
OUTPUTS = (
    "themes", "theme_shares", "unit_themes", "theme_models", "keyness",
    "recurring_recommendations", "recommendations_not_taken_up", "entity_counts",
)  # fmt: skip
ENTITY_COLUMNS = ["doc_id", "unit_id", "text", "label", "canonical", "iso3"]
RECOMMENDATION_COLUMNS = ["doc_id", "unit_id", "text", "actor", "cue", "theme"]
DEFAULT_GOLD = ("tests/gold/*.json",)


def gold_files(setting: object) -> list[Path]:
    """Gold files named by ``analyze.gold`` (globs, relative to the working directory, or
    else to the project folder): where the recurrence threshold is learnt."""
    patterns = [setting] if isinstance(setting, str) else list(setting or DEFAULT_GOLD)
    found: set[Path] = set()
    for pattern in patterns:
        for base in (Path.cwd(), PACKAGE_DIR.parent):
            hits = glob.glob(str(base / pattern)) if not Path(pattern).is_absolute() else glob.glob(pattern)
            if hits:
                found.update(Path(h).resolve() for h in hits)
                break
    return sorted(found)


def _fingerprint(ctx: Context, recommendations: bytes | None, gold: list[Path]) -> str:
    """Inputs by content (recommendations.csv as this stage leaves it), settings, code."""
    digest = hashlib.sha256()
    for name in INPUTS:
        path = ctx.paths.table(name)
        if name == "recommendations" and recommendations is not None:
            digest.update(hashlib.sha256(recommendations).hexdigest().encode())
        else:
            digest.update((sha256_file(path) if path.exists() else "missing").encode())
    for file in gold:
        digest.update(sha256_file(file).encode())
    digest.update(ctx.settings.fingerprint("analyze", "extract").encode())
    digest.update(
        code_fingerprint(
            "analyze", "data/theme_stopwords.txt", "data/advice_words.txt", "data/concepts.txt", "nlp.py"
        ).encode()
    )
    return digest.hexdigest()[:32]


def _terms_fingerprint(ctx: Context) -> str:
    """What shapes the terms of a unit: the spaCy model, the word lists, the code."""
    return sha256_text(
        str(ctx.settings["extract"]["model"]),
        code_fingerprint("analyze/terms.py", "data/theme_stopwords.txt", "data/advice_words.txt", "nlp.py"),
    )[:16]


def _read_optional(path: Path, columns: list[str]) -> pd.DataFrame:
    if path.exists():
        return read_table(path, columns)
    return pd.DataFrame(columns=columns)


def run(ctx: Context) -> dict:
    """Analyse the processed tables; write the analysis tables (see docs/analysis.md)."""
    paths = ctx.paths
    for name in ("documents", "units"):
        if not paths.table(name).exists():
            raise SystemExit(f"error: {paths.table(name)} not found: run `python -m pipeline ingest` first")
    settings = dict(ctx.settings["analyze"])
    gold = gold_files(settings.get("gold"))
    outputs = [paths.table(n) for n in OUTPUTS] + [paths.processed / "analysis.json"]
    state = StageState(paths.processed, "analyze")
    if not ctx.force and state.up_to_date(_fingerprint(ctx, None, gold), outputs):
        print("analyze: up to date", file=sys.stderr)
        return json.loads((paths.processed / "analysis.json").read_text(encoding="utf-8"))

    documents = read_table(paths.table("documents"))
    units = read_table(paths.table("units"), ["doc_id", "unit_id", "kind", "text", "section", "block"])
    entities = _read_optional(paths.table("entities"), ENTITY_COLUMNS)
    has_recs = paths.table("recommendations").exists()
    recs = _read_optional(paths.table("recommendations"), RECOMMENDATION_COLUMNS)

    confs = conferences(documents)
    conf_list = conference_list(confs)
    content = content_units(units, confs)

    # one spaCy pass over every unit any analysis looks at
    model_name = ctx.settings["extract"]["model"]
    extractor = TermExtractor(
        load_model(model_name, exclude=("ner",)),
        # what marks a recommendation ("greater", "encourage") is not what it is about
        load_word_list("theme_stopwords.txt") | load_word_list("advice_words.txt"),
        batch_size=int(ctx.settings["extract"].get("batch_size", 64)),
    )
    keys = set(zip(content["doc_id"], content["unit_id"], strict=True))
    keys |= set(zip(recs["doc_id"], recs["unit_id"].astype(str), strict=True))
    cache = DocumentCache(paths.cache, "analyze", _terms_fingerprint(ctx))
    terms = _terms_of(extractor, units, keys, cache, ctx.jobs)
    content_terms = [terms[k].nominal for k in zip(content["doc_id"], content["unit_id"], strict=True)]

    # themes
    theme_settings = ThemeSettings.from_settings(settings)
    model, corpus = fit_themes(content_terms, theme_settings)
    display = display_forms(terms[k] for k in zip(content["doc_id"], content["unit_id"], strict=True))
    themes, unit_themes = theme_tables(content, model, corpus, display)
    shares = theme_shares(unit_themes, themes, conf_list)

    # distinctive terms
    key = keyness(
        content_terms,
        content["conference_order"].tolist(),
        conf_list,
        alpha=float(settings.get("keyness_alpha", 0.05)),
        min_freq=int(settings.get("keyness_min_freq", 2)),
    )

    # recurring recommendations
    vocabulary = Vocabulary(load_word_list("advice_words.txt"), load_concepts())
    background = [
        vocabulary.features([terms[k]]) for k in zip(content["doc_id"], content["unit_id"], strict=True)
    ]
    pairs, not_taken, threshold, _ = find_recurring(
        recs[["doc_id", "unit_id", "text"]].astype(str),
        units,
        confs,
        lambda d, u: terms.get((d, u), UnitTerms()),
        vocabulary,
        background,
        load_gold_pairs(gold),
        settings.get("recurrence_threshold", "gold"),
    )

    counts = entity_counts(entities, confs) if len(entities) else pd.DataFrame(columns=ENTITY_COUNT_COLUMNS)

    rec_bytes = None
    if has_recs:
        recs = _with_themes(recs, unit_themes, themes, terms, corpus, model)
        rec_bytes = recs.to_csv(index=False).encode("utf-8")

    summary = {
        "n_documents": int(len(confs)),
        "n_conferences": int(len(conf_list)),
        "n_content_units": int(len(content)),
        "n_unassigned_units": int((unit_themes["theme"] == "").sum()),
        "theme_method": model.method,
        "n_themes": int(model.k),
        "n_themes_setting": str(theme_settings.n_themes),
        "recommendations_table": has_recs,
        "entities_table": paths.table("entities").exists(),
        "n_recommendations": int(len(recs)),
        "recurrence_threshold": threshold.value,
        "recurrence_threshold_source": threshold.source,
        "n_recurring_pairs": int(len(pairs)),
        "gold_files": [g.name for g in gold],
    }
    with output_batch():  # the analysis tables appear together or not at all
        write_table(themes, paths.table("themes"))
        write_table(shares, paths.table("theme_shares"))
        write_table(unit_themes, paths.table("unit_themes"))
        write_table(model.selection, paths.table("theme_models"))
        write_table(key, paths.table("keyness"))
        write_table(pairs[PAIR_COLUMNS], paths.table("recurring_recommendations"))
        write_table(not_taken[NOT_TAKEN_UP_COLUMNS], paths.table("recommendations_not_taken_up"))
        write_table(counts, paths.table("entity_counts"))
        if rec_bytes is not None:
            write_bytes(paths.table("recommendations"), rec_bytes)
        write_text(paths.processed / "analysis.json", json.dumps(summary, indent=2, default=_json))
        state.record(_fingerprint(ctx, rec_bytes, gold))
    print(
        f"analyze: {len(content)} units in {len(conf_list)} conferences, {model.k} themes "
        f"({model.method}), {len(key)} keyness rows, {len(pairs)} recurring recommendations "
        f"(threshold {threshold.value:g}: {threshold.source.split(':')[0]})",
        file=sys.stderr,
    )
    return summary


def _terms_of(
    extractor: TermExtractor,
    units: pd.DataFrame,
    keys: set[tuple[str, str]],
    cache: DocumentCache,
    jobs: int = 1,
) -> dict:
    """(doc_id, unit_id) -> terms for every unit any analysis looks at: one spaCy pass over
    the documents whose units changed, the others from the cache (so a run after adding
    one memo parses one memo)."""
    todo = units[[k in keys for k in zip(units["doc_id"], units["unit_id"], strict=True)]]
    docs = []
    for _, doc_units in todo.groupby("doc_id", sort=True):
        pairs = zip(doc_units["unit_id"], doc_units["text"], strict=True)
        content = sha256_text(*[f"{u}\x1e{t}" for u, t in pairs])
        docs.append((doc_units, content, cache.get(content)))
    missing = [d for d in docs if d[2] is None]
    texts = [t for doc_units, _, _ in missing for t in doc_units["text"]]
    # worker processes pay off only on a large corpus (each must load the model)
    parsed = iter(extractor.extract(texts, n_process=jobs if len(texts) > 5000 else 1))
    found: dict[tuple[str, str], UnitTerms] = {}
    for doc_units, content, cached in docs:
        if cached is None:
            cached = [next(parsed) for _ in range(len(doc_units))]
            cache.put(content, cached)
        found.update(zip(zip(doc_units["doc_id"], doc_units["unit_id"], strict=True), cached, strict=True))
    cache.prune(content for _, content, _ in docs)
    return found


def _with_themes(recs, unit_themes, themes, terms, corpus, model) -> pd.DataFrame:
    """recommendations.csv with ``theme`` (and ``theme_label``) filled; other columns kept.

    A recommendation that is a content unit has that unit's theme; any other (a heading,
    say) gets the theme whose term profile is closest."""
    keys = list(zip(recs["doc_id"], recs["unit_id"], strict=True))
    by_unit = dict(
        zip(
            zip(unit_themes["doc_id"], unit_themes["unit_id"], strict=True), unit_themes["theme"], strict=True
        )
    )
    missing = [k for k in keys if k not in by_unit and k in terms]
    if missing and model.k:
        assigned = assign_themes([terms[k].nominal for k in missing], corpus, model, themes)
        by_unit.update(zip(missing, assigned, strict=True))
    labels = dict(zip(themes["theme"], themes["label"], strict=True))
    recs = recs.copy()
    recs["theme"] = [by_unit.get(k, "") for k in keys]
    recs["theme_label"] = recs["theme"].map(labels).fillna("")
    return recs


def _json(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
