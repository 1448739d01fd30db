"""The analysis terms of every unit, parsed once per document and cached.

A document's terms (``terms.TermExtractor``: lemmas and noun phrases, from the spaCy
parse) and what recurrence compares of its units (``recurrence.Vocabulary.features``) are
kept under ``processed/.cache/`` keyed by the document's units and the fingerprint of the
model, word lists and code that shape them, so a run after adding one memo parses one memo.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pipeline import knowledge
from pipeline.cache import DocumentCache, code_fingerprint, sha256_text
from pipeline.config import Context, Settings

if TYPE_CHECKING:
    from pipeline.analyze.recurrence import Vocabulary
    from pipeline.analyze.terms import TermExtractor, UnitTerms

# a unit's terms: (doc_id, unit_id) -> UnitTerms; each document's (content hash, unit ids)
Terms = dict[tuple[str, str], "UnitTerms"]
Documents = dict[str, tuple[str, list[str]]]


def terms_fingerprint(settings: Settings) -> str:
    """What shapes the terms of a unit: the spaCy model, the word lists, the code."""
    return sha256_text(
        str(settings["extract"]["model"]),
        code_fingerprint("analyze/terms.py", "nlp.py"),
        knowledge.fingerprint(["theme_stopwords.txt", "advice_words.txt"]),
    )[:16]


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


def parse_document(job: TermsJob) -> list[UnitTerms]:
    """Terms of one document's units, parsed and cached (runs in a worker)."""
    found = _extractor(job.model, job.batch_size).extract(job.texts)
    DocumentCache(Path(job.cache_root), "analyze", job.fingerprint).put(job.content_hash, found)
    return found


def term_units(units: pd.DataFrame) -> Iterator[tuple[str, str]]:
    """The units whose terms the analysis reads, as far as units.csv alone tells."""
    from pipeline.analyze.corpus import CONTENT_KINDS

    chosen = units[units["kind"].isin(CONTENT_KINDS)]
    return zip(chosen["doc_id"], chosen["unit_id"], strict=True)


def unit_terms(
    ctx: Context,
    units: pd.DataFrame,
    keys: set[tuple[str, str]],
) -> tuple[Terms, Documents]:
    """(doc_id, unit_id) -> terms for every unit any analysis looks at: the documents whose
    units changed are parsed (over ``--jobs`` processes or the Dask cluster), the others
    come from the cache, so a run after adding one memo parses one memo. Also returns each
    document's content hash and unit ids (what its cache entries are keyed by)."""
    from pipeline.runner import imap_documents

    fingerprint = terms_fingerprint(ctx.settings)
    cache = DocumentCache(ctx.paths.cache, "analyze", fingerprint)
    model = str(ctx.settings["extract"]["model"])
    batch_size = int(ctx.settings["extract"].get("batch_size", 64))
    cache_root = str(ctx.paths.cache)
    wanted = np.fromiter(
        (k in keys for k in zip(units["doc_id"], units["unit_id"], strict=True)), bool, len(units)
    )
    found: Terms = {}
    documents: Documents = {}
    missing = []
    for doc_id, doc_units in units[wanted].groupby("doc_id", sort=True):
        unit_ids, texts = doc_units["unit_id"].tolist(), doc_units["text"].tolist()
        content = sha256_text(*[f"{u}\x1e{t}" for u, t in zip(unit_ids, texts, strict=True)])
        documents[str(doc_id)] = (content, unit_ids)
        cached = cache.get(content)
        if cached is None:
            job = TermsJob(str(doc_id), unit_ids, texts, content, model, batch_size, cache_root, fingerprint)
            missing.append(job)
        else:
            found.update(zip(((doc_id, u) for u in unit_ids), cached, strict=True))
    if missing:
        from pipeline.nlp import require_model

        require_model(model)
    parsed = imap_documents(
        parse_document,
        missing,
        jobs=ctx.jobs,
        scheduler=ctx.scheduler,
        desc="analyze: terms",
        initializer=_extractor,  # the spaCy pipeline loads once per worker
        initargs=(model, batch_size),
    )
    for job, result in zip(missing, parsed, strict=True):
        found.update(zip(((job.doc_id, u) for u in job.unit_ids), result, strict=True))
    cache.prune(content for content, _ in documents.values())
    print(
        f"analyze: terms of {len(missing)} of {len(documents)} documents parsed, "
        f"{len(documents) - len(missing)} from cache",
        file=sys.stderr,
    )
    return found, documents


def features_fingerprint(settings: Settings) -> str:
    """What shapes the compared terms of a unit: its terms, the thesaurus, the code."""
    return sha256_text(
        terms_fingerprint(settings),
        code_fingerprint("analyze/recurrence.py"),
        knowledge.fingerprint(["concepts.txt", "advice_words.txt"]),
    )[:16]


def unit_features(
    ctx: Context,
    documents: Documents,
    terms: Terms,
    vocabulary: Vocabulary,
) -> dict[tuple[str, str], list[str]]:
    """What recurrence compares of each unit (``Vocabulary.features``), cached per document
    beside its terms: on a large corpus computing them all takes a second of every run."""
    cache = DocumentCache(ctx.paths.cache, "analyze-features", features_fingerprint(ctx.settings))
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
