"""Analyze stage I/O: the documented tables in processed/ -> themes, shares, keyness,
recurring recommendations and entity counts (see docs/analysis.md for every column).

Reads documents.csv and units.csv (required), entities.csv and recommendations.csv (when
the extraction has written them); fills the ``theme`` column of recommendations.csv. All
analysis lives in the pure modules beside this one; this module only reads and writes.

Importing this module is cheap: the up-to-date check runs first, and spaCy, scikit-learn
and SciPy (through the analysis modules) are imported only when there is work to do, so a
run with nothing changed finishes in well under a second per stage.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import glob
import hashlib
import json
import sys
from collections.abc import Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pipeline.cache import PACKAGE_DIR, DocumentCache, StageState, code_fingerprint, sha256_file, sha256_text
from pipeline.config import Context, Paths
from pipeline.tableio import output_batch, read_table, write_bytes, write_table, write_text

if TYPE_CHECKING:
    from pipeline.analyze.recurrence import Vocabulary
    from pipeline.analyze.terms import TermExtractor, UnitTerms
    from pipeline.analyze.themes import ThemeSettings

INPUTS = ("documents", "units", "entities", "recommendations")
OUTPUTS = (
    "themes", "theme_shares", "unit_themes", "theme_models", "theme_changes", "keyness",
    "recurring_recommendations", "recommendations_not_taken_up", "entity_counts",
)  # fmt: skip
ENTITY_COLUMNS = ["doc_id", "unit_id", "text", "label", "canonical", "iso3"]
RECOMMENDATION_COLUMNS = ["doc_id", "unit_id", "text", "actor", "cue", "theme"]
DEFAULT_GOLD = ("tests/gold/*.json",)
# Columns of recommendations.csv (extract's table) that this stage fills in place.
FILLED_RECOMMENDATION_COLUMNS = ("theme", "theme_label")


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
    outputs = [paths.table(n) for n in OUTPUTS]
    outputs += [paths.processed / "analysis.json", paths.processed / "theme_model.json"]
    state = StageState(paths.processed, "analyze")
    if not ctx.force and state.up_to_date(_fingerprint(ctx, None, gold), outputs):
        print("analyze: up to date", file=sys.stderr)
        return json.loads((paths.processed / "analysis.json").read_text(encoding="utf-8"))
    return _analyze(ctx, settings, gold, state)


def _analyze(ctx: Context, settings: dict, gold: list[Path], state: StageState) -> dict:
    """The work itself; the analysis modules load only here (and scikit-learn only in
    the process that fits the themes, started first so that it imports it while this
    process reads the tables)."""
    import pipeline.analyze.recurrence  # noqa: F401  (SciPy: imported once, inherited by the workers)
    from pipeline.analyze.themes import warm_up
    from pipeline.runner import helper_process

    with contextlib.ExitStack() as stack:
        theme_worker = ctx.helper or stack.enter_context(helper_process(ctx.jobs))
        if theme_worker is not None:
            theme_worker.submit(warm_up)  # at once if the CLI's helper has not already
        found = _read_inputs(ctx, settings, gold)
        gc.freeze()  # forked workers then share the parent's objects instead of copying them
        try:
            return _run_analyses(ctx, found, theme_worker, gold, state)
        finally:
            gc.unfreeze()
            _share(None)


@dataclass
class Inputs:
    """Everything the analyses read, as the stage found it."""

    confs: pd.DataFrame
    entities: pd.DataFrame
    recs: pd.DataFrame | None  # None without a recommendations table
    themes: ThemeInputs
    shared: SharedInputs


def _read_inputs(ctx: Context, settings: dict, gold: list[Path]) -> Inputs:
    from pipeline.analyze.corpus import conference_list, conferences, content_units
    from pipeline.analyze.recurrence import Vocabulary, load_concepts, load_gold_pairs
    from pipeline.analyze.terms import display_table, load_word_list
    from pipeline.analyze.themes import ThemeSettings, theme_features

    paths = ctx.paths
    documents = read_table(paths.table("documents"))
    units = read_table(paths.table("units"), ["doc_id", "unit_id", "kind", "text", "section", "block"])
    entities = _read_optional(paths.table("entities"), ENTITY_COLUMNS)
    has_recs = paths.table("recommendations").exists()
    recs = _read_optional(paths.table("recommendations"), RECOMMENDATION_COLUMNS)

    confs = conferences(documents)
    conf_list = conference_list(confs)
    content = content_units(units, confs)

    # one spaCy pass over every unit any analysis looks at, for the documents not cached:
    # the sentences and list items (what prefetch_terms parses while extract runs) and any
    # other unit a recommendation is
    rec_keys = list(zip(recs["doc_id"], recs["unit_id"].astype(str), strict=True))
    terms, by_document = _terms_of(ctx, units, set(_term_units(units)) | set(rec_keys))
    content_keys = list(zip(content["doc_id"], content["unit_id"], strict=True))
    content_terms = [terms[k].nominal for k in content_keys]
    vocabulary = Vocabulary(load_word_list("advice_words.txt"), load_concepts())
    features = _features_of(ctx, by_document, terms, vocabulary)

    # a recommendation that is not a content unit (a heading, say) gets the closest theme
    in_content = set(content_keys)
    others = [k for k in rec_keys if k not in in_content and k in terms]
    is_recommendation = set(rec_keys)
    themes = ThemeInputs(
        content=content[list(THEME_UNIT_COLUMNS)],
        content_terms=content_terms,
        content_features=[theme_features(terms[k].words, terms[k].phrases) for k in content_keys],
        is_recommendation=[k in is_recommendation for k in content_keys],
        processed=str(paths.processed),
        content_groups=[by_document[d][0] for d in content["doc_id"]],
        conference_list=conf_list,
        settings=ThemeSettings.from_settings(settings),
        jobs=max(1, ctx.jobs - 1),
        cache_root=str(paths.cache),
        display=display_table(terms[k] for k in content_keys),
        others=others,
        others_terms=[theme_features(terms[k].words, terms[k].phrases) for k in others],
    )
    shared = SharedInputs(
        content_terms=content_terms,
        content_conference_order=content["conference_order"].tolist(),
        conference_list=conf_list,
        cache_root=str(paths.cache),
        features_fingerprint=_features_fingerprint(ctx),
        recs=recs[["doc_id", "unit_id", "text"]].astype(str),
        units=units,
        confs=confs,
        terms=terms,
        vocabulary=vocabulary,
        features=features,
        background=[features[k] for k in content_keys],
        gold_pairs=load_gold_pairs(gold),
        threshold_setting=settings.get("recurrence_threshold", "gold"),
        keyness_alpha=float(settings.get("keyness_alpha", 0.05)),
        keyness_min_freq=int(settings.get("keyness_min_freq", 2)),
    )
    return Inputs(confs, entities, recs if has_recs else None, themes, shared)


def _run_analyses(
    ctx: Context, found: Inputs, theme_worker: Executor | None, gold: list[Path], state: StageState
) -> dict:
    """Themes and recurrence side by side, each in its own process when there are two
    jobs (after one new memo, they are most of the stage's time); keyness and the entity
    counts here meanwhile. Each analysis's tables are written as it ends."""
    from pipeline.analyze.entity_counts import ENTITY_COUNT_COLUMNS, entity_counts
    from pipeline.analyze.recurrence import NOT_TAKEN_UP_COLUMNS, PAIR_COLUMNS
    from pipeline.runner import Deferred, completion_order, started

    paths, shared = ctx.paths, found.shared
    with (
        started(recurrence_job, [None], jobs=ctx.jobs, initializer=_share, initargs=(shared,)) as running,
        output_batch(),  # the analysis tables appear together or not at all
    ):
        recurring = running[0]
        if theme_worker is not None:
            themed_future = theme_worker.submit(_themes, found.themes)
        else:
            themed_future = Deferred(_themes, found.themes)
        key = _keyness(shared)
        write_table(key, paths.table("keyness"))
        no_entities = pd.DataFrame(columns=ENTITY_COUNT_COLUMNS)
        counts = entity_counts(found.entities, found.confs) if len(found.entities) else no_entities
        write_table(counts, paths.table("entity_counts"))
        if ctx.while_waiting is not None and ctx.jobs > 1:
            ctx.while_waiting()
        rec_bytes = None
        for index in completion_order([themed_future, recurring]):
            if index == 0:
                themed: ThemeResult = themed_future.result()
                rec_bytes = _write_themes(paths, themed, found.recs)
                if themed.stability["message"]:
                    print(themed.stability["message"], file=sys.stderr)
            else:
                pairs, not_taken, threshold, _ = recurring.result()
                write_table(pairs[PAIR_COLUMNS], paths.table("recurring_recommendations"))
                not_taken = not_taken[NOT_TAKEN_UP_COLUMNS]
                write_table(not_taken, paths.table("recommendations_not_taken_up"))
        summary = {
            "n_documents": int(len(found.confs)),
            "n_conferences": int(len(shared.conference_list)),
            "n_content_units": int(len(found.themes.content)),
            "n_unassigned_units": int((themed.unit_themes["theme"] == "").sum()),
            "theme_method": themed.method,
            "n_themes": int(themed.k),
            "n_themes_setting": str(found.themes.settings.n_themes),
            "theme_stability": themed.stability,
            "run_date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "corpus": {"documents": int(len(found.confs)), "conferences": int(len(shared.conference_list))},
            "recommendations_table": found.recs is not None,
            "entities_table": paths.table("entities").exists(),
            "n_recommendations": int(len(shared.recs)),
            "recurrence_threshold": threshold.value,
            "recurrence_threshold_source": threshold.source,
            "n_recurring_pairs": int(len(pairs)),
            "gold_files": [g.name for g in gold],
        }
        write_text(paths.processed / "analysis.json", json.dumps(summary, indent=2, default=_json))
        state.record(_fingerprint(ctx, rec_bytes, gold))
    print(
        f"analyze: {summary['n_content_units']} units in {summary['n_conferences']} conferences, "
        f"{themed.k} themes ({themed.method}), {len(key)} keyness rows, {len(pairs)} recurring "
        f"recommendations (threshold {threshold.value:g}: {threshold.source.split(':')[0]})",
        file=sys.stderr,
    )
    return summary


# --------------------------------------------------------------------------- corpus level

THEME_UNIT_COLUMNS = ("doc_id", "unit_id", "conference", "year", "text")


@dataclass
class ThemeInputs:
    """What the theme model reads: plain data, sent to the process that fits it."""

    content: pd.DataFrame  # the content units (THEME_UNIT_COLUMNS), in the model's row order
    content_terms: list[list[str]]
    content_features: list[list[str]]  # what themes compare (``themes.theme_features``)
    is_recommendation: list[bool]
    processed: str
    content_groups: list[str]  # each content unit's document content hash
    conference_list: pd.DataFrame
    settings: ThemeSettings
    jobs: int
    cache_root: str
    display: dict[str, str]  # phrase -> its most frequent written form (``display_table``)
    others: list[tuple[str, str]]  # recommendations that are not content units
    others_terms: list[list[str]]


@dataclass
class SharedInputs:
    """What recurrence and keyness read; a forked worker inherits it rather than receive a
    copy."""

    content_terms: list[list[str]]
    content_conference_order: list[int]
    conference_list: pd.DataFrame
    cache_root: str
    features_fingerprint: str
    recs: pd.DataFrame
    units: pd.DataFrame
    confs: pd.DataFrame
    terms: dict[tuple[str, str], UnitTerms]
    vocabulary: Vocabulary
    features: dict[tuple[str, str], list[str]]
    background: list[list[str]]
    gold_pairs: list[tuple[str, str]]
    threshold_setting: object
    keyness_alpha: float
    keyness_min_freq: int


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


_SHARED: SharedInputs | None = None


def _share(inputs: SharedInputs | None) -> None:
    global _SHARED
    _SHARED = inputs


def recurrence_job(_: None = None) -> tuple:
    """``_recurrence`` of the inputs this worker inherited (``_share``)."""
    assert _SHARED is not None
    return _recurrence(_SHARED)


def _themes(inputs: ThemeInputs) -> ThemeResult:
    """The theme tables (``theme_run.run_themes``)."""
    from pipeline.analyze.theme_run import run_themes

    return run_themes(inputs)


def _keyness(shared: SharedInputs) -> pd.DataFrame:
    """Distinctive terms of each conference (``keyness.keyness``)."""
    from pipeline.analyze.keyness import keyness

    return keyness(
        shared.content_terms,
        shared.content_conference_order,
        shared.conference_list,
        alpha=shared.keyness_alpha,
        min_freq=shared.keyness_min_freq,
    )


def _recurrence(shared: SharedInputs) -> tuple:
    """Recurring recommendations (``recurrence.find_recurring``)."""
    from pipeline.analyze.recurrence import find_recurring
    from pipeline.analyze.terms import UnitTerms

    terms, features, vocabulary = shared.terms, shared.features, shared.vocabulary

    def unit_features(doc_id: str, unit_id: str) -> list[str]:
        found = features.get((doc_id, unit_id))
        if found is None:
            found = vocabulary.features([terms.get((doc_id, unit_id), UnitTerms())])
        return found

    # each document's weighted query terms, kept between runs
    queries = DocumentCache(Path(shared.cache_root), "analyze-queries", shared.features_fingerprint)
    found = find_recurring(
        shared.recs,
        shared.units,
        shared.confs,
        lambda d, u: terms.get((d, u), UnitTerms()),
        vocabulary,
        shared.background,
        shared.gold_pairs,
        shared.threshold_setting,
        unit_features,
        queries,
    )
    queries.prune()
    return found


# --------------------------------------------------------------------------- per document


@dataclass
class TermsJob:
    """One document's units to parse for terms; plain data for workers and clusters."""

    doc_id: str
    unit_ids: list[str]
    texts: list[str]
    content_hash: str
    model: str
    batch_size: int
    cache_root: str
    fingerprint: str


@lru_cache(maxsize=2)
def _extractor(model: str, batch_size: int) -> TermExtractor:
    """The term extractor, built once per process (workers reuse it for every document)."""
    from pipeline.analyze.terms import TermExtractor, load_word_list
    from pipeline.nlp import load_model

    return TermExtractor(
        load_model(model, exclude=("ner",)),
        # what marks a recommendation ("greater", "encourage") is not what it is about
        load_word_list("theme_stopwords.txt") | load_word_list("advice_words.txt"),
        batch_size=batch_size,
    )


def warm_up(model: str, batch_size: int) -> None:
    """Load the spaCy pipeline once per worker process, before its first document."""
    _extractor(model, batch_size)


def terms_one(job: TermsJob) -> list[UnitTerms]:
    """Terms of one document's units, parsed and cached (runs in a worker)."""
    found = _extractor(job.model, job.batch_size).extract(job.texts)
    DocumentCache(Path(job.cache_root), "analyze", job.fingerprint).put(job.content_hash, found)
    return found


def _term_units(units: pd.DataFrame) -> Iterator[tuple[str, str]]:
    """The units whose terms the analysis reads, as far as units.csv alone tells."""
    from pipeline.analyze.corpus import CONTENT_KINDS

    chosen = units[units["kind"].isin(CONTENT_KINDS)]
    return zip(chosen["doc_id"], chosen["unit_id"], strict=True)


def prefetch_terms(ctx: Context) -> None:
    """Parse and cache the terms of documents not in the cache yet, from units.csv alone:
    ``run`` starts this beside the extract stage (which it does not depend on), so the
    analyze stage finds them cached. Only when fewer documents are new than there are jobs:
    extract then parses them without using every core, and this takes the idle one (with
    more, extract's workers keep every core busy, and analyze parses over all of them)."""
    units = read_table(ctx.paths.table("units"), ["doc_id", "unit_id", "kind", "text"])
    serial = dataclasses.replace(ctx, jobs=1, scheduler=None)
    _terms_of(serial, units, set(_term_units(units)), max_missing=ctx.jobs - 1)


def _terms_of(
    ctx: Context,
    units: pd.DataFrame,
    keys: set[tuple[str, str]],
    max_missing: int | None = None,
) -> tuple[dict[tuple[str, str], UnitTerms], dict[str, tuple[str, list[str]]]]:
    """(doc_id, unit_id) -> terms for every unit any analysis looks at: the documents whose
    units changed are parsed (over ``--jobs`` processes or the Dask cluster), the others
    come from the cache, so a run after adding one memo parses one memo. Also returns each
    document's content hash and unit ids (what its cache entries are keyed by). With
    ``max_missing`` (parsing ahead of the stage) the cached terms are not read, and more
    than that many missing documents are left to the stage."""
    from pipeline.runner import imap_documents

    fingerprint = _terms_fingerprint(ctx)
    cache = DocumentCache(ctx.paths.cache, "analyze", fingerprint)
    model = str(ctx.settings["extract"]["model"])
    batch_size = int(ctx.settings["extract"].get("batch_size", 64))
    wanted = np.fromiter(
        (k in keys for k in zip(units["doc_id"], units["unit_id"], strict=True)), bool, len(units)
    )
    found: dict[tuple[str, str], UnitTerms] = {}
    documents: dict[str, tuple[str, list[str]]] = {}
    missing = []
    for doc_id, doc_units in units[wanted].groupby("doc_id", sort=True):
        unit_ids, texts = doc_units["unit_id"].tolist(), doc_units["text"].tolist()
        content = sha256_text(*[f"{u}\x1e{t}" for u, t in zip(unit_ids, texts, strict=True)])
        documents[str(doc_id)] = (content, unit_ids)
        if max_missing is not None and cache.has(content):
            continue  # ahead of the stage, only what is missing matters
        cached = cache.get(content)
        if cached is None:
            missing.append(
                TermsJob(
                    str(doc_id),
                    unit_ids,
                    texts,
                    content,
                    model,
                    batch_size,
                    str(ctx.paths.cache),
                    fingerprint,
                )
            )
        else:
            found.update(zip(((doc_id, u) for u in unit_ids), cached, strict=True))
    if max_missing is not None and len(missing) > max_missing:
        return found, documents  # more than this caller was to parse: left to the stage
    if missing:
        from pipeline.nlp import require_model

        require_model(model)
    parsed = imap_documents(
        terms_one,
        missing,
        jobs=ctx.jobs,
        scheduler=ctx.scheduler,
        desc="analyze: terms",
        initializer=warm_up,
        initargs=(model, batch_size),
    )
    for job, result in zip(missing, parsed, strict=True):
        found.update(zip(((job.doc_id, u) for u in job.unit_ids), result, strict=True))
    if max_missing is not None:  # ahead of the stage, which reports and prunes itself
        return found, documents
    cache.prune(content for content, _ in documents.values())
    print(
        f"analyze: terms of {len(missing)} of {len(documents)} documents parsed, "
        f"{len(documents) - len(missing)} from cache",
        file=sys.stderr,
    )
    return found, documents


def _features_fingerprint(ctx: Context) -> str:
    """What shapes the compared terms of a unit: its terms, the thesaurus, the code."""
    return sha256_text(
        _terms_fingerprint(ctx),
        code_fingerprint("analyze/recurrence.py", "data/concepts.txt", "data/advice_words.txt"),
    )[:16]


def _features_of(
    ctx: Context,
    documents: dict[str, tuple[str, list[str]]],
    terms: dict[tuple[str, str], UnitTerms],
    vocabulary: Vocabulary,
) -> dict[tuple[str, str], list[str]]:
    """What recurrence compares of each unit (``Vocabulary.features``), cached per document
    beside its terms: on a large corpus computing them all takes a second of every run."""
    cache = DocumentCache(ctx.paths.cache, "analyze-features", _features_fingerprint(ctx))
    found: dict[tuple[str, str], list[str]] = {}
    for doc_id, (content, unit_ids) in documents.items():
        keys = [(doc_id, u) for u in unit_ids]
        cached = cache.get(content)
        if cached is None:
            cached = [vocabulary.features([terms[k]]) for k in keys]
            cache.put(content, cached)
        found.update(zip(keys, cached, strict=True))
    cache.prune(content for content, _ in documents.values())
    return found


def _write_themes(paths: Paths, themed: ThemeResult, recs: pd.DataFrame | None) -> bytes | None:
    """The theme tables, and recommendations.csv with its themes (its new bytes)."""
    write_table(themed.themes, paths.table("themes"))
    write_table(themed.shares, paths.table("theme_shares"))
    write_table(themed.unit_themes, paths.table("unit_themes"))
    write_table(themed.selection, paths.table("theme_models"))
    write_table(themed.changes, paths.table("theme_changes"))
    if recs is None:
        return None
    rec_bytes = _with_themes(recs, themed).to_csv(index=False).encode("utf-8")
    write_bytes(paths.table("recommendations"), rec_bytes)
    return rec_bytes


def _with_themes(recs: pd.DataFrame, themed: ThemeResult) -> pd.DataFrame:
    """recommendations.csv with ``theme`` (and ``theme_label``) filled; other columns kept.

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
    recs = recs.copy()
    theme, theme_label = FILLED_RECOMMENDATION_COLUMNS
    recs[theme] = [by_unit.get(k, "") for k in keys]
    recs[theme_label] = recs[theme].map(labels).fillna("")
    return recs


def _json(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
