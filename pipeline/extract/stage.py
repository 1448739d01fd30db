"""Extract stage I/O: units.csv -> entities.csv and recommendations.csv.

Each document is processed alone (``extract_one``, picklable for process pools and Dask) and
its result cached by the hash of its units, the ``[extract]`` settings, the code and the
knowledge files; a stage whose inputs have not moved is skipped. Cached documents are read
in this process and only the others go to the workers, so a run after adding one memo
parses one memo (and starts no worker pool). Results are written as they arrive, one
document at a time, so memory does not grow with the corpus.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, overload

import numpy as np
import pandas as pd

from pipeline.cache import DocumentCache, Step, sha256_text
from pipeline.config import Context
from pipeline.extract.classifier import load_model as load_recommendation_model
from pipeline.extract.cues import CueLexicon
from pipeline.extract.entities import ENTITY_COLUMNS, acronym_forms, apply_acronym_forms, document_entities
from pipeline.extract.gazetteer import KNOWLEDGE_FILES, load_knowledge
from pipeline.extract.recommendations import (
    RECOMMENDATION_COLUMNS,
    ActorLexicon,
    actor_lexicon,
    document_recommendations,
)
from pipeline.runner import imap_documents
from pipeline.tableio import TableWriter, output_batch, read_table

UNIT_FIELDS = ["unit_id", "section", "kind", "text", "block", "level", "marker"]
WRITE_ROWS = 5000  # rows gathered before a write: bounded memory, few slow to_csv calls


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
        recommendations=document_recommendations(
            doc_id, units, docs, cue_lexicon, actor_lexicon, load_recommendation_model(data_dir)
        ),
    )


@lru_cache(maxsize=4)
def _lexicons(data_dir: str) -> tuple[CueLexicon, ActorLexicon]:
    knowledge = load_knowledge(data_dir or None)
    return CueLexicon(knowledge.cues), actor_lexicon(data_dir)


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


STEP = Step(
    "extract",
    inputs=lambda ctx: [ctx.paths.table("units")],
    outputs=lambda ctx: [ctx.paths.table("entities"), ctx.paths.table("recommendations")],
    settings_sections=("extract",),
    code_paths=("extract", "nlp.py"),
    knowledge=KNOWLEDGE_FILES,
    inputs_by_stat=True,
)


def run(ctx: Context) -> dict[str, int]:
    """Find entities and recommendations in every unit; write entities.csv and recommendations.csv."""
    units_csv = ctx.paths.table("units")
    if not units_csv.is_file():
        raise SystemExit(f"error: {units_csv} not found; run `python -m pipeline ingest` first")
    entities_csv, recommendations_csv = ctx.paths.table("entities"), ctx.paths.table("recommendations")
    settings = dict(ctx.settings["extract"])
    model, data_dir = str(settings.get("model", "en_core_web_sm")), str(settings.get("data_dir", "") or "")
    content_fp = STEP.content_fingerprint(ctx)
    stage_fp = STEP.fingerprint(ctx)
    if STEP.up_to_date(ctx, stage_fp):
        print("extract: up to date", file=sys.stderr)
        return {}

    units = read_table(units_csv, columns=["doc_id", *UNIT_FIELDS])
    positions = units.groupby("doc_id", sort=False).indices  # doc_id -> its rows, in order
    cache = DocumentCache(ctx.paths.cache, "extract", content_fp)
    batch_size = int(settings.get("batch_size", 64))

    def job(doc_id: str) -> ExtractJob:
        rows = units.iloc[positions[doc_id]][UNIT_FIELDS].to_dict("records")
        return ExtractJob(str(doc_id), rows, model, data_dir, batch_size, str(ctx.paths.cache), content_fp)

    # the cache is looked at here, and only what it lacks is sent to the workers
    keys = _content_hashes(units, positions)
    todo = _Jobs([doc_id for doc_id, key in keys.items() if not cache.has(key)], job)
    if todo:
        from pipeline.nlp import require_model  # spaCy: imported only for real work

        require_model(model)
    parsed = imap_documents(
        extract_one,
        todo,
        jobs=ctx.jobs,
        scheduler=ctx.scheduler,
        desc="extract",
        initializer=warm_up,
        initargs=(model, data_dir),
    )
    computed = set(todo.doc_ids)

    def results() -> Iterator[ExtractResult]:
        """Every document's result in units.csv order: parsed ones as the workers return
        them, the others from the cache."""
        for doc_id, key in keys.items():
            if doc_id in computed:
                yield next(parsed)
            else:
                yield cache.get(key) or extract_one(job(doc_id))

    # closing: the worker pool is shut down here, not whenever the generator is collected
    # (a Ctrl-C during a collection's shutdown would be printed and then ignored)
    with output_batch(), contextlib.closing(parsed):  # both tables appear together or not at all
        n_entities, n_recommendations = write_tables(results(), entities_csv, recommendations_csv)
        STEP.record(ctx, stage_fp)
    cache.prune(keys.values())
    print(
        f"extract: {len(todo)} of {len(keys)} documents parsed, {len(keys) - len(todo)} from cache; "
        f"{n_entities} entity mentions, {n_recommendations} recommendations",
        file=sys.stderr,
    )
    return {"documents": len(keys), "parsed": len(todo), "entities": n_entities}


def _content_hashes(units: pd.DataFrame, positions: dict[str, np.ndarray]) -> dict[str, str]:
    """Each document's ``ExtractJob.content_hash``, from whole columns at once (building
    every job only to hash it costs seconds on a large corpus)."""
    rows = units[UNIT_FIELDS[0]].astype(str)
    for name in UNIT_FIELDS[1:]:
        rows = rows + "\x1e" + units[name].astype(str)
    values = rows.to_numpy()
    return {doc_id: sha256_text(str(doc_id), *values[rows_of]) for doc_id, rows_of in positions.items()}


class _Jobs(Sequence[ExtractJob]):
    """The documents to parse, each job built only when a worker is about to get it (a
    job carries its document's units: building them all first would hold the corpus twice)."""

    def __init__(self, doc_ids: list[str], build: Callable[[str], ExtractJob]) -> None:
        self.doc_ids = doc_ids
        self._build = build

    def __len__(self) -> int:
        return len(self.doc_ids)

    @overload
    def __getitem__(self, index: int) -> ExtractJob: ...
    @overload
    def __getitem__(self, index: slice) -> list[ExtractJob]: ...
    def __getitem__(self, index: int | slice) -> ExtractJob | list[ExtractJob]:
        if isinstance(index, slice):
            return [self._build(d) for d in self.doc_ids[index]]
        return self._build(self.doc_ids[index])


def _spool(ents: list[dict], spool: IO[str]) -> list:
    if ents:
        pd.DataFrame(ents, columns=ENTITY_COLUMNS).to_csv(spool, index=False, header=False)
    return []


def write_tables(
    results: Iterator[ExtractResult], entities_csv: Path, recommendations_csv: Path
) -> tuple[int, int]:
    """Write both tables one document at a time.

    Recommendations go straight to their table. Entity rows are spooled to a temporary file
    first: an organization's canonical name depends on every document (``apply_acronym_forms``),
    so the names are settled on a second, streamed pass once all documents are in.
    """
    canonicals: dict[str, None] = {}  # ORG canonical names in order of first mention
    with contextlib.ExitStack() as stack:
        spool = stack.enter_context(
            tempfile.TemporaryFile("w+", encoding="utf-8", newline="", dir=entities_csv.parent)
        )
        recs_out = stack.enter_context(TableWriter(recommendations_csv, RECOMMENDATION_COLUMNS))
        pd.DataFrame(columns=ENTITY_COLUMNS).to_csv(spool, index=False)
        ents: list[dict] = []
        for result in results:
            recs_out.write(result.recommendations)
            ents += result.entities
            canonicals.update((r["canonical"], None) for r in result.entities if r["label"] == "ORG")
            if len(ents) >= WRITE_ROWS:  # a few documents per write: to_csv is slow to start
                ents = _spool(ents, spool)
        _spool(ents, spool)
        with_acronym = acronym_forms(canonicals)
        spool.seek(0)
        with TableWriter(entities_csv, ENTITY_COLUMNS) as entities_out:
            for chunk in pd.read_csv(spool, dtype=str, keep_default_na=False, chunksize=WRITE_ROWS):
                entities_out.write(apply_acronym_forms(chunk, with_acronym).to_dict("records"))
    return entities_out.rows_written, recs_out.rows_written
