"""Extract stage I/O: units.csv -> entities.csv and recommendations.csv.

Each document is processed alone (``extract_one``, picklable for process pools and Dask) and
its result cached by the hash of its units, the ``[extract]`` settings, the code and the
knowledge files; a stage whose inputs have not moved is skipped.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from pipeline.cache import DocumentCache, StageState, code_fingerprint, files_fingerprint, sha256_text
from pipeline.config import Context
from pipeline.extract.cues import CueLexicon
from pipeline.extract.entities import ENTITY_COLUMNS, document_entities, unify_canonicals
from pipeline.extract.gazetteer import data_fingerprint, load_knowledge, resolve_data_dir
from pipeline.extract.recommendations import RECOMMENDATION_COLUMNS, ActorLexicon, document_recommendations
from pipeline.runner import map_documents
from pipeline.tableio import output_batch, read_table, write_table

UNIT_FIELDS = ["unit_id", "section", "kind", "text", "block", "level", "marker"]


@dataclass
class ExtractJob:
    """One document's units and how to read them; plain data for workers and clusters."""

    doc_id: str
    units: list[dict]
    model: str
    data_dir: str
    batch_size: int
    cache_root: str
    fingerprint: str

    @property
    def content_hash(self) -> str:
        return sha256_text(self.doc_id, *("\x1e".join(str(u[f]) for f in UNIT_FIELDS) for u in self.units))


@dataclass
class ExtractResult:
    entities: list[dict] = field(default_factory=list)
    recommendations: list[dict] = field(default_factory=list)


def warm_up(model: str, data_dir: str) -> None:
    """Load the pipeline once per worker process, before its first document."""
    from pipeline.extract.nlp_pipeline import extraction_pipeline

    extraction_pipeline(model, data_dir)


def extract_units(
    doc_id: str, units: pd.DataFrame, model: str, data_dir: str = "", batch_size: int = 64
) -> ExtractResult:
    """The pure core: one document's units (units.csv rows, in order) -> its rows."""
    from pipeline.extract.nlp_pipeline import extraction_pipeline, process_units  # spaCy: only when needed

    nlp = extraction_pipeline(model, data_dir)
    knowledge = load_knowledge(data_dir or None)
    docs = list(process_units(nlp, units["text"], units["kind"], batch_size=batch_size))
    cue_lexicon, actor_lexicon = _lexicons(data_dir)
    return ExtractResult(
        entities=document_entities(doc_id, list(units["unit_id"]), docs, knowledge),
        recommendations=document_recommendations(doc_id, units, docs, cue_lexicon, actor_lexicon),
    )


@lru_cache(maxsize=4)
def _lexicons(data_dir: str) -> tuple[CueLexicon, ActorLexicon]:
    knowledge = load_knowledge(data_dir or None)
    return CueLexicon(knowledge.cues), ActorLexicon(knowledge.cues)


def extract_one(job: ExtractJob) -> ExtractResult:
    cache = DocumentCache(Path(job.cache_root), "extract", job.fingerprint)
    key = job.content_hash
    cached = cache.get(key)
    if cached is not None:
        return cached
    units = pd.DataFrame(job.units, columns=UNIT_FIELDS)
    result = extract_units(job.doc_id, units, job.model, job.data_dir, job.batch_size)
    cache.put(key, result)
    return result


def _content_fingerprint(ctx: Context, data_dir: str) -> str:
    return (
        ctx.settings.fingerprint("extract")
        + code_fingerprint("extract", "nlp.py")
        + data_fingerprint(resolve_data_dir(data_dir or None))
    )


def run(ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Find entities and recommendations in every unit; write entities.csv and recommendations.csv."""
    units_csv = ctx.paths.table("units")
    if not units_csv.is_file():
        raise SystemExit(f"error: {units_csv} not found; run `python -m pipeline ingest` first")
    entities_csv, recommendations_csv = ctx.paths.table("entities"), ctx.paths.table("recommendations")
    settings = dict(ctx.settings["extract"])
    model, data_dir = str(settings.get("model", "en_core_web_sm")), str(settings.get("data_dir", "") or "")
    content_fp = _content_fingerprint(ctx, data_dir)
    state = StageState(ctx.paths.processed, "extract")
    stage_fp = files_fingerprint([units_csv]) + content_fp
    if not ctx.force and state.up_to_date(stage_fp, [entities_csv, recommendations_csv]):
        print("extract: up to date", file=sys.stderr)
        return read_table(entities_csv), read_table(recommendations_csv)

    from pipeline.nlp import ModelNotFound, resolve_model  # spaCy: imported only for real work

    try:
        resolve_model(model)  # a missing model is one clear line, not a traceback per worker
    except ModelNotFound as error:
        raise SystemExit(f"error: {error}") from None

    units = read_table(units_csv, columns=["doc_id", *UNIT_FIELDS])
    jobs = [
        ExtractJob(
            doc_id=str(doc_id),
            units=group[UNIT_FIELDS].to_dict("records"),
            model=model,
            data_dir=data_dir,
            batch_size=int(settings.get("batch_size", 64)),
            cache_root=str(ctx.paths.cache),
            fingerprint=content_fp,
        )
        for doc_id, group in units.groupby("doc_id", sort=False)
    ]
    results = map_documents(
        extract_one,
        jobs,
        jobs=ctx.jobs,
        scheduler=ctx.scheduler,
        desc="extract",
        initializer=warm_up,
        initargs=(model, data_dir),
    )
    entities = unify_canonicals(
        pd.DataFrame([r for res in results for r in res.entities], columns=ENTITY_COLUMNS)
    )
    recommendations = pd.DataFrame(
        [r for res in results for r in res.recommendations], columns=RECOMMENDATION_COLUMNS
    )
    with output_batch():  # entities.csv and recommendations.csv appear together or not at all
        write_table(entities, entities_csv)
        write_table(recommendations, recommendations_csv)
        state.record(stage_fp)
    DocumentCache(ctx.paths.cache, "extract", content_fp).prune(job.content_hash for job in jobs)
    print(
        f"extract: {len(jobs)} documents, {len(entities)} entity mentions, "
        f"{len(recommendations)} recommendations",
        file=sys.stderr,
    )
    return entities, recommendations
