"""Recurring recommendations: which earlier recommendation a later one takes up.

Each recommendation of a later edition of a conference series is compared with the
recommendations of the editions before it in that series (Okapi BM25 over their terms, the
later one as the query). A later recommendation takes up an earlier one when the two are
each other's best match, the similarity reaches a threshold and beats the runner-up by a
margin (``Rule``); a later list item that merges two earlier recommendations takes up both.
See docs/recurrence.md for the measurements behind every choice below.

What is compared:

- content-word and verb lemmas and noun phrases (``terms.py``), without the words that only
  mark a recommendation ("encourage", "greater", "should"): every recommendation has them;
- thesaurus variants (``pipeline/data/concepts.txt``) replaced by their concept, inside
  phrases too, so that "the private sector" and "industry" are one term;
- in the later recommendation, each term weighted by where it comes: a recommendation says
  what is to be done first and why or how after ("industry engagement based on enlightened
  self-interest"), and taking it up means taking up the first part;
- in the earlier recommendation, the sentences around it in its paragraph at reduced weight
  (a sentence that says "such positions" is about what the paragraph named before), and the
  sentences of one list item as one recommendation.

The threshold and margin are settings (``[analyze] recurrence_threshold``,
``recurrence_margin``), fitted offline on the labelled series by ``tools/fit_recurrence.py``;
nothing is read from gold files at run time.
"""

from __future__ import annotations

import bisect
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from pipeline.analyze.terms import UnitTerms
from pipeline.cache import sha256_text
from pipeline.knowledge import data_path

CONTEXT_WEIGHT = (1.0, 0.25)  # (refers back, does not)
# BM25 saturation and length normalisation; b below the usual 0.75 because the texts are
# one sentence or list item each (docs/recurrence.md shows the measured alternatives)
BM25_K1 = 1.2
BM25_B = 0.3
# A term of the later recommendation counts half when a third of the recommendation's
# content words come before it, a quarter when two thirds do (docs/recurrence.md: the sweep)
POSITION_HALF_LIFE = 1 / 3
CONCEPT_PREFIX = "≈"
SCOPES = ("series", "all")
# How many matched terms a link shows as evidence
SHOWN_TERMS = 8

PAIR_COLUMNS = [
    "doc_id_a", "unit_id_a", "doc_id_b", "unit_id_b", "similarity",
    "conference_a", "year_a", "conference_b", "year_b", "text_a", "text_b",
    "unit_ids_a", "unit_ids_b", "shared_terms", "runner_up_doc_id", "runner_up_unit_id",
    "runner_up_similarity", "margin", "merged", "threshold", "min_margin", "threshold_source",
]  # fmt: skip
NOT_TAKEN_UP_COLUMNS = [
    "doc_id", "unit_id", "unit_ids", "conference", "year", "text",
    "closest_doc_id", "closest_unit_id", "closest_similarity", "threshold",
]  # fmt: skip
CANDIDATE_COLUMNS = [
    "b", "a", "similarity", "mutual", "runner_up", "runner_up_similarity", "runner_up_mutual",
]  # fmt: skip
BY_EDITION_COLUMNS = [
    "series", "edition", "conference", "year", "recommendations", "new",
    "taken_up_from_earlier", "taken_up_later", "dropped",
]  # fmt: skip

TermLookup = Callable[[str, str], UnitTerms]
FeatureLookup = Callable[[str, str], list[str]]  # (doc_id, unit_id) -> Vocabulary.features of the unit


class QueryCache(Protocol):
    """Where the position-weighted terms of one document's recommendations are kept between
    runs (``pipeline.cache.DocumentCache`` is one): keyed by what they depend on."""

    def get(self, key: str) -> list[Counter[str]] | None: ...
    def put(self, key: str, value: list[Counter[str]]) -> None: ...


def load_concepts(name: str = "concepts.txt") -> dict[str, list[str]]:
    """Variant term -> concepts it stands for, from the packaged thesaurus."""
    mapping: dict[str, list[str]] = {}
    for line in data_path(name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "=" not in line:
            continue
        concept, variants = line.split("=", 1)
        concept = " ".join(concept.lower().split())
        for variant in variants.split(";"):
            variant = " ".join(variant.lower().split())
            if variant and concept not in mapping.get(variant, []):
                mapping.setdefault(variant, []).append(concept)
    return mapping


# --------------------------------------------------------------------------- terms

_TOKEN = re.compile(r"[^\W\d_]+")


def _inflects(lemma: str, token: str) -> bool:
    """Whether a word of the text is a form of the lemma ("based" of "base", "countries" of
    "country", "media" of "medium"): they share a prefix that lacks at most two letters of
    the shorter one, and at least three."""
    shared = 0
    for x, y in zip(lemma, token, strict=False):
        if x != y:
            break
        shared += 1
    return shared >= 3 and shared >= min(len(lemma), len(token)) - 2


def _offsets(terms: Sequence[str], tokens: Sequence[tuple[str, int]]) -> list[int]:
    """Character offset in the text of each term (of one list, in reading order).

    The terms of a list come in the order of the text, so each is looked for after the one
    before: the same word at its exact form first, then an inflection. A term not found (an
    irregular form, "brought" for "bring") takes the offset of the one before it in the
    list or, if it comes first, the middle of the text: nothing says it opens the text."""
    found: list[int] = []
    start, last = 0, None
    middle = tokens[len(tokens) // 2][1] if tokens else 0
    for term in terms:
        first = term.split()[0]
        hit = next((j for j in range(start, len(tokens)) if tokens[j][0] == first), None)
        if hit is None:
            hit = next((j for j in range(start, len(tokens)) if _inflects(first, tokens[j][0])), None)
        if hit is not None:
            start, last = hit + 1, tokens[hit][1]
        found.append(last if last is not None else middle)
    return found


@dataclass(frozen=True)
class Vocabulary:
    """What is compared: advice words to drop (``advice_words.txt``) and the thesaurus
    (``concepts.txt``, variant -> concepts)."""

    cues: frozenset[str]
    concepts: Mapping[str, list[str]]
    _canonical: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def _longest(self) -> int:
        return max((len(v.split()) for v in self.concepts), default=1)

    def canonical(self, term: str) -> str:
        """The term with every thesaurus variant in it replaced by its concept (longest
        variant first): "private sector engagement" -> "≈industry engagement". Remembered:
        a corpus asks for the same few thousand terms hundreds of thousands of times."""
        known = self._canonical.get(term)
        if known is None:
            known = self._canonical[term] = self._replace_variants(term)
        return known

    def _replace_variants(self, term: str) -> str:
        words = term.split()
        out, i = [], 0
        while i < len(words):
            for n in range(min(self._longest, len(words) - i), 0, -1):
                concepts = self.concepts.get(" ".join(words[i : i + n]))
                if concepts:
                    out.append(CONCEPT_PREFIX + concepts[0].replace(" ", "_"))
                    i += n
                    break
            else:
                out.append(words[i])
                i += 1
        return " ".join(out)

    def _compared(self, unit: UnitTerms) -> list[tuple[list[str], bool]]:
        """The unit's compared terms as (terms, single-word?) lists in reading order: words,
        verbs, phrases. Advice words are dropped (from phrases too), and so are the single
        words of a phrase the thesaurus knows ("private", "sector" of "private sector"):
        the phrase is one term and should count once."""
        absorbed = {w for p in unit.phrases if p in self.concepts for w in p.split()}
        lists = []
        for terms, single in ((unit.words, True), (unit.verbs, True), (unit.phrases, False)):
            kept = []
            for term in terms:
                words = term.split()
                if term in self.cues or all(w in self.cues for w in words):
                    continue
                if single and term in absorbed:
                    continue
                kept.append(" ".join(w for w in words if w not in self.cues) or term)
            lists.append((kept, single))
        return lists

    def features(self, terms: Iterable[UnitTerms]) -> list[str]:
        """The compared terms of some units, each once per occurrence, thesaurus applied."""
        return [self.canonical(t) for unit in terms for kept, _ in self._compared(unit) for t in kept]

    def weighted(
        self, units: Iterable[tuple[UnitTerms, str]], half_life: float | None = POSITION_HALF_LIFE
    ) -> Counter[str]:
        """Features of one recommendation (its units with their texts) weighted by position.

        A term's position is the share of the recommendation's content words and verbs
        that come before it (boilerplate does not count, so "encouragement of greater focus
        on industry ..." starts at "industry"); its weight halves every ``half_life`` of
        that. ``None`` weighs every term 1.
        """
        placed: list[tuple[str, tuple[int, int]]] = []
        singles: list[tuple[int, int]] = []
        for index, (unit, text) in enumerate(units):
            tokens = [(m.group(), m.start()) for m in _TOKEN.finditer(text.lower())]
            for kept, single in self._compared(unit):
                keys = [(index, at) for at in _offsets(kept, tokens)]
                placed.extend(zip(kept, keys, strict=True))
                if single:
                    singles.extend(keys)
        singles.sort()
        out: Counter[str] = Counter()
        for term, key in placed:
            weight = 1.0
            if half_life and singles:
                weight = 0.5 ** (bisect.bisect_left(singles, key) / len(singles) / half_life)
            out[self.canonical(term)] += weight  # type: ignore[assignment]  # a Counter of weights
        return out


# --------------------------------------------------------------------------- grouping


def recommendation_groups(recs: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """One row per recommendation; the sentences of one list item are taken together.

    Columns: doc_id, unit_id (the first unit), unit_ids (all units of the group, ``;``),
    text, member_units and context_units (lists of (doc_id, unit_id)): for a sentence,
    the sentences before it in its paragraph; member_texts (the text of each member unit).
    Paragraphs and list items come from the ``block`` column of units.csv; without it each
    recommendation stands alone.
    """
    info = units.copy()
    info["unit_id"] = info["unit_id"].astype(str)
    for column in ("block", "kind"):
        if column not in info.columns:
            info[column] = ""
        info[column] = info[column].fillna("").astype(str)
    info["seq"] = pd.to_numeric(info["unit_id"], errors="coerce")
    info = info.sort_values(["doc_id", "seq"], kind="stable")
    info = _as_python_objects(info, keep=("seq",))
    meta = {(r.doc_id, r.unit_id): r for r in info.itertuples(index=False)}
    blocks: dict[tuple[str, str], list] = {}
    for row in info.itertuples(index=False):
        if row.block:
            blocks.setdefault((row.doc_id, row.block), []).append(row)

    recs = recs.assign(unit_id=recs["unit_id"].astype(str))
    recs = recs.assign(seq=pd.to_numeric(recs["unit_id"], errors="coerce"))
    recs = _as_python_objects(recs.sort_values(["doc_id", "seq"], kind="stable"), keep=("seq",))
    rows: list[dict] = []
    taken: set[tuple[str, str]] = set()
    for rec in recs.itertuples(index=False):
        if (rec.doc_id, rec.unit_id) in taken:
            continue
        unit = meta.get((rec.doc_id, rec.unit_id))
        block = blocks.get((rec.doc_id, unit.block), []) if unit is not None else []
        members, context = [rec.unit_id], []
        texts = [rec.text]
        if unit is not None and unit.kind == "list_item":
            # the rest of the list item elaborates this recommendation (an earlier sentence
            # of the item would have opened the group itself, had it been one)
            rest = [u for u in block if u.seq > unit.seq]
            members += [u.unit_id for u in rest]
            texts += [u.text for u in rest]
        elif unit is not None and unit.kind == "sentence":
            context = [u.unit_id for u in block if u.seq < unit.seq and u.kind == "sentence"]
        taken.update((rec.doc_id, m) for m in members)
        rows.append(
            {
                "doc_id": rec.doc_id,
                "unit_id": rec.unit_id,
                "unit_ids": ";".join(members),
                "text": " ".join(texts),
                "member_units": [(rec.doc_id, m) for m in members],
                "context_units": [(rec.doc_id, c) for c in context],
                "member_texts": texts,
            }
        )
    columns = ["doc_id", "unit_id", "unit_ids", "text", "member_units", "context_units", "member_texts"]
    return pd.DataFrame(rows, columns=columns)


def _as_python_objects(frame: pd.DataFrame, keep: Sequence[str] = ()) -> pd.DataFrame:
    """The frame with plain Python values: rows of pandas' own string arrays are several
    times slower to walk (``itertuples``) than rows of objects."""
    return frame.astype({c: object for c in frame.columns if c not in keep})


# --------------------------------------------------------------------------- similarity


@dataclass
class Scorer:
    """BM25 scores between recommendations, computed one block of pairs at a time, so a
    corpus of thousands of recommendations never needs the full square matrix."""

    documents: csr_matrix  # groups x terms: BM25 weight of each term in each group
    queries: csr_matrix  # groups x terms: position-weighted term counts of each group
    self_scores: np.ndarray  # each query's score against the group itself
    names: list[str] = field(default_factory=list)  # the term of each column

    def shared_terms(self, a: int, b: int) -> list[str]:
        """The terms that make group ``a`` answer group ``b``, largest share of the score
        first (thesaurus concepts marked ``≈``): the evidence a reader checks."""
        contribution = self.documents[a].multiply(self.queries[b]).tocoo()
        ranked = sorted(zip(contribution.data.tolist(), contribution.col.tolist(), strict=True), reverse=True)
        return [self.names[c].replace("_", " ") for value, c in ranked[:SHOWN_TERMS] if value > 0]

    def block(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``S[i, j]``: how well group ``rows[i]`` answers group ``cols[j]``, where 1 means as
        well as the query answers itself."""
        scores = (self.documents[rows] @ self.queries[cols].T).toarray()
        scores /= self.self_scores[cols][None, :]
        return np.round(scores, 6, out=scores)  # in place: blocks are large


def bm25_scorer(
    groups: pd.DataFrame,
    terms: TermLookup,
    vocabulary: Vocabulary,
    background: Iterable[list[str]] = (),
    features: FeatureLookup | None = None,
    query_cache: QueryCache | None = None,
    context_weight: tuple[float, float] = CONTEXT_WEIGHT,
    k1: float = BM25_K1,
    b: float = BM25_B,
    half_life: float | None = POSITION_HALF_LIFE,
) -> Scorer:
    """Okapi BM25 with the later recommendation's position-weighted terms as the query and
    the earlier one's terms, plus its weighted paragraph context, as the document.

    BM25 rather than cosine because the later recommendations are often short list items
    and the earlier ones full sentences: cosine punishes the longer side for every extra
    word, BM25 only mildly (``b``). IDF comes from ``background`` (the content units, every
    recommendation among them) or, without it, from the recommendations, so "regional"
    counts as common and "private sector" as rare. ``features``, where given, has each
    unit's ``vocabulary.features`` already worked out (the stage caches them per document);
    ``query_cache`` keeps the position-weighted query terms of each document's groups.
    """
    unit_features = features or (lambda d, u: vocabulary.features([terms(d, u)]))

    def features_of(units: Iterable[tuple[str, str]]) -> list[str]:
        return [term for d, u in units for term in unit_features(d, u)]

    own = [Counter(features_of(m)) for m in groups["member_units"]]
    queries_tf = query_terms(groups, terms, vocabulary, half_life, query_cache)
    docs = []
    for mine, members, context in zip(own, groups["member_units"], groups["context_units"], strict=True):
        refers_back = bool(members) and terms(*members[0]).anaphoric
        weight = context_weight[0] if refers_back else context_weight[1]
        tf = Counter(mine)
        for term, n in Counter(features_of(context)).items():
            tf[term] += weight * n  # type: ignore[assignment]  # a Counter of weights
        docs.append(tf)
    names = sorted({t for doc in docs for t in doc})
    index = {t: i for i, t in enumerate(names)}
    corpus = list(background) or own
    df = np.zeros(len(names))
    for doc in corpus:
        for t in {t for t in doc if t in index}:
            df[index[t]] += 1
    df = np.maximum(df, 1)  # a recommendation outside the background still has its terms
    idf = np.log(1 + (len(corpus) - df + 0.5) / (df + 0.5))

    def matrix(rows: list[Counter]) -> csr_matrix:
        data, cols, ptr = [], [], [0]
        for row in rows:
            items = sorted((index[t], v) for t, v in row.items())
            cols += [c for c, _ in items]
            data += [v for _, v in items]
            ptr.append(len(cols))
        return csr_matrix((np.array(data, dtype=float), cols, ptr), shape=(len(rows), len(names)))

    def weights(tf: csr_matrix, mean_length: float) -> csr_matrix:
        lengths = np.asarray(tf.sum(axis=1)).ravel()
        norm = np.repeat(k1 * (1 - b + b * lengths / mean_length), np.diff(tf.indptr))
        out = tf.copy()
        out.data = idf[tf.indices] * tf.data * (k1 + 1) / (tf.data + norm)
        return out

    tf = matrix(docs)
    lengths = np.asarray(tf.sum(axis=1)).ravel()
    mean_length = float(lengths.mean()) if len(lengths) and lengths.mean() > 0 else 1.0
    queries = matrix(queries_tf)
    # a query against the group itself (its own terms, without context): the best it can do
    self_scores = np.asarray(weights(matrix(own), mean_length).multiply(queries).sum(axis=1)).ravel()
    return Scorer(weights(tf, mean_length), queries, np.where(self_scores > 0, self_scores, 1.0), names)


def query_terms(
    groups: pd.DataFrame,
    terms: TermLookup,
    vocabulary: Vocabulary,
    half_life: float | None = POSITION_HALF_LIFE,
    cache: QueryCache | None = None,
) -> list[Counter[str]]:
    """Each group's position-weighted terms (``Vocabulary.weighted``), worked out one document
    at a time; with ``cache``, a document whose groups (their units and texts) are unchanged
    reuses what an earlier run worked out. The terms of a unit follow from its text, and the
    cache's own fingerprint covers how they are found."""
    texts = groups["member_texts"] if "member_texts" in groups else groups["text"].map(lambda t: [t])
    members = groups["member_units"].tolist()
    texts = texts.tolist()
    out: list[Counter[str]] = [Counter() for _ in members]
    for rows in groups.groupby("doc_id", sort=False).indices.values():
        items = [(members[r], texts[r]) for r in rows]
        key = sha256_text(repr(items), repr(half_life))
        found = cache.get(key) if cache is not None else None
        if found is None:
            found = [
                vocabulary.weighted([(terms(*u), text) for u, text in zip(m, t, strict=True)], half_life)
                for m, t in items
            ]
            if cache is not None:
                cache.put(key, found)
        for r, counts in zip(rows, found, strict=True):
            out[r] = counts
    return out


def series_of(documents: pd.DataFrame, confs: pd.DataFrame, scope: str = "series") -> dict[str, str]:
    """Each document's conference series; ``""`` for a document linked to none.

    ``scope="series"``: the ``series`` ingest gives in documents.csv (the conference name
    without its edition, as ``corpus.conferences`` passes it on); for a documents table
    without that column, every document with a conference name is one series. A standalone
    document (no conference name) is not part of one.
    ``scope="all"``: every document in one series (links across any earlier document).
    """
    if scope not in SCOPES:
        raise ValueError(f"recurrence_scope must be one of {SCOPES}, not {scope!r}")
    doc_ids = confs["doc_id"].astype(str).tolist()
    if scope == "all":
        return dict.fromkeys(doc_ids, "all")
    docs = documents.assign(doc_id=documents["doc_id"].astype(str)).set_index("doc_id")
    column = "series" if "series" in docs.columns else "conference"
    names = docs[column] if column in docs.columns else pd.Series("", index=docs.index)
    names = names.reindex(doc_ids).fillna("").astype(str).str.strip()
    if column == "conference":
        return {d: ("conferences" if name else "") for d, name in names.items()}
    return dict(names.items())


def rank_candidates(
    scorer: Scorer, conference_order: Sequence[int], series: Sequence[str], chunk: int = 500
) -> tuple[pd.DataFrame, dict[int, tuple[int, float]]]:
    """For each later recommendation: its best and second-best earlier recommendation of the
    same series, and whether each is *mutual* (the later one is the earlier one's best
    match in that edition). And each earlier recommendation's closest later one.

    Returns one row per later recommendation that has earlier ones: ``b`` (later), ``a``
    (best earlier), ``similarity``, ``mutual``, ``runner_up`` (-1 when there is none),
    ``runner_up_similarity``, ``runner_up_mutual``. Blocks of ``chunk`` later
    recommendations at a time, so the full square matrix is never held. Ties go to the
    earlier group.
    """
    conf = np.asarray(conference_order)
    names = np.asarray(series, dtype=object)
    near_col = np.full(len(conf), -1)
    near_val = np.full(len(conf), -np.inf)
    parts: list[tuple[np.ndarray, ...]] = []  # one tuple of CANDIDATE_COLUMNS per edition
    for name in sorted({s for s in names.tolist() if s}):
        members = np.flatnonzero(names == name)
        for level in sorted(set(conf[members].tolist()))[1:]:
            earlier = members[conf[members] < level]
            later = members[conf[members] == level]
            top1, val1, top2, val2 = [], [], [], []
            row_best = np.full(len(earlier), -1)
            row_val = np.full(len(earlier), -np.inf)
            for start in range(0, len(later), chunk):
                cols = later[start : start + chunk]
                block = scorer.block(earlier, cols)
                at = np.arange(len(cols))
                first = block.argmax(axis=0)  # the first maximum: the earliest group
                second = np.full(len(cols), -1)
                if len(earlier) > 1:
                    value = block[first, at].copy()
                    block[first, at] = -np.inf
                    second = block.argmax(axis=0)
                    block[first, at] = value
                top1.append(earlier[first])
                val1.append(block[first, at])
                top2.append(np.where(second >= 0, earlier[np.maximum(second, 0)], -1))
                val2.append(np.where(second >= 0, block[np.maximum(second, 0), at], 0.0))
                best = block.argmax(axis=1)
                value = block[np.arange(len(earlier)), best]
                better = value > row_val
                row_best[better], row_val[better] = cols[best[better]], value[better]
            a, a2 = np.concatenate(top1), np.concatenate(top2)
            # each earlier group's best later group, looked up by position (earlier is sorted)
            best_of_a = row_best[np.searchsorted(earlier, a)]
            best_of_a2 = row_best[np.searchsorted(earlier, np.maximum(a2, earlier[0]))]
            parts.append(
                (later, a, np.concatenate(val1), best_of_a == later, a2, np.concatenate(val2),
                 (a2 >= 0) & (best_of_a2 == later))
            )  # fmt: skip
            better = row_val > near_val[earlier]
            near_col[earlier[better]] = row_best[better]
            near_val[earlier[better]] = row_val[better]
    closest = {int(i): (int(near_col[i]), float(near_val[i])) for i in np.flatnonzero(near_col >= 0)}
    empty: list[list] = [[] for _ in CANDIDATE_COLUMNS]
    columns = [np.concatenate(c) for c in zip(*parts, strict=True)] if parts else empty
    frame = pd.DataFrame(dict(zip(CANDIDATE_COLUMNS, columns, strict=True)))
    types = {c: int for c in ("b", "a", "runner_up")} | {c: bool for c in ("mutual", "runner_up_mutual")}
    return frame.astype(types | {"similarity": float, "runner_up_similarity": float}), closest


# --------------------------------------------------------------------------- decision


@dataclass(frozen=True)
class Rule:
    """When a later recommendation takes up an earlier one (``decide``). ``source`` says how
    the numbers were chosen (shown in the tables, analysis.json and the report)."""

    threshold: float
    margin: float
    source: str = ""

    @classmethod
    def from_settings(cls, settings: Mapping[str, object]) -> Rule:
        """The rule of ``[analyze]``: ``recurrence_threshold``, ``recurrence_margin`` and
        ``recurrence_fitted_on`` (where the shipped values come from)."""
        try:
            threshold = float(settings["recurrence_threshold"])  # type: ignore[arg-type]
            margin = float(settings["recurrence_margin"])  # type: ignore[arg-type]
        except (TypeError, ValueError) as error:
            raise ValueError(
                "[analyze] recurrence_threshold and recurrence_margin must be numbers "
                f"(fitted values: python -m tools.fit_recurrence): {error}"
            ) from None
        source = str(settings.get("recurrence_fitted_on", "") or "settings: [analyze] recurrence_threshold")
        return cls(threshold, margin, source)


def shipped_rule() -> Rule:
    """The rule of ``pipeline/data/defaults.toml``: fitted on the labelled series by
    ``tools/fit_recurrence.py`` (docs/recurrence.md)."""
    values = tomllib.loads(data_path("defaults.toml").read_text(encoding="utf-8"))["analyze"]
    return Rule.from_settings(values)


def decide(candidates: pd.DataFrame, rule: Rule) -> pd.DataFrame:
    """The links: (earlier ``a``, later ``b``) pairs a reader would call "taken up".

    A later recommendation takes up its most similar earlier one when the pair is mutual
    (no other recommendation of the later edition is closer to the earlier one), the
    similarity reaches ``rule.threshold``, and it beats the runner-up by ``rule.margin``.
    One earlier recommendation per later one, unless the two best are too close to tell
    apart (within the margin) and both are mutual and reach the threshold: a later list
    item that merges two earlier recommendations takes up both.
    """
    c = candidates
    first = c["mutual"].astype(bool) & (c["similarity"] >= rule.threshold)
    clear = first & (c["similarity"] - c["runner_up_similarity"] >= rule.margin)
    merged = (
        first & ~clear & c["runner_up_mutual"].astype(bool) & (c["runner_up_similarity"] >= rule.threshold)
    )
    links = c[merged | clear].assign(merged=merged[merged | clear])
    second = c[merged].assign(
        a=c.loc[merged, "runner_up"],
        similarity=c.loc[merged, "runner_up_similarity"],
        runner_up=c.loc[merged, "a"],
        runner_up_similarity=c.loc[merged, "similarity"],
        merged=True,
    )
    out = pd.concat([links, second]) if len(second) else links
    return out.sort_values(["b", "similarity"], ascending=[True, False], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- outputs


def recurring_tables(
    groups: pd.DataFrame,
    links: pd.DataFrame,
    closest: dict[int, tuple[int, float]],
    rule: Rule,
    confs: pd.DataFrame,
    shared: Callable[[int, int], list[str]] = lambda a, b: [],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """recurring_recommendations and recommendations_not_taken_up as tables: the links with
    their evidence (``shared`` gives the matched terms of a pair), and the earlier
    recommendations no later edition takes up (those of the last edition are not listed)."""
    info = confs.set_index("doc_id")[["conference", "year", "conference_order"]].to_dict("index")
    records = groups[["doc_id", "unit_id", "unit_ids", "text"]].to_dict("records")
    rows = []
    for link in links.itertuples():
        a, b = records[link.a], records[link.b]
        runner = records[link.runner_up] if link.runner_up >= 0 else None
        rows.append(
            {
                "doc_id_a": a["doc_id"], "unit_id_a": a["unit_id"],
                "doc_id_b": b["doc_id"], "unit_id_b": b["unit_id"],
                "similarity": link.similarity,
                "conference_a": info[a["doc_id"]]["conference"], "year_a": info[a["doc_id"]]["year"],
                "conference_b": info[b["doc_id"]]["conference"], "year_b": info[b["doc_id"]]["year"],
                "text_a": a["text"], "text_b": b["text"],
                "unit_ids_a": a["unit_ids"], "unit_ids_b": b["unit_ids"],
                "shared_terms": "; ".join(shared(link.a, link.b)),
                "runner_up_doc_id": runner["doc_id"] if runner else "",
                "runner_up_unit_id": runner["unit_id"] if runner else "",
                "runner_up_similarity": link.runner_up_similarity if runner else "",
                "margin": round(link.similarity - link.runner_up_similarity, 6) if runner else "",
                "merged": bool(link.merged),
                "threshold": rule.threshold, "min_margin": rule.margin, "threshold_source": rule.source,
            }
        )  # fmt: skip
    pairs = pd.DataFrame(rows, columns=PAIR_COLUMNS)
    last = _last_editions(confs, groups)
    taken = set(links["a"].tolist())
    left = []
    for i, group in enumerate(records):
        if i in taken or (group["doc_id"] in last):
            continue
        near, value = closest.get(i, (None, 0.0))
        left.append(
            {
                "doc_id": group["doc_id"], "unit_id": group["unit_id"], "unit_ids": group["unit_ids"],
                "conference": info[group["doc_id"]]["conference"], "year": info[group["doc_id"]]["year"],
                "text": group["text"],
                "closest_doc_id": records[near]["doc_id"] if near is not None else "",
                "closest_unit_id": records[near]["unit_id"] if near is not None else "",
                "closest_similarity": value if near is not None else "",
                "threshold": rule.threshold,
            }
        )  # fmt: skip
    return pairs.reset_index(drop=True), pd.DataFrame(left, columns=NOT_TAKEN_UP_COLUMNS)


def _last_editions(confs: pd.DataFrame, groups: pd.DataFrame) -> set[str]:
    """Documents of the last edition of their series, or of no series: nothing later could
    take up their recommendations."""
    series = groups.drop_duplicates("doc_id").set_index("doc_id")["series"]
    order = confs.set_index("doc_id")["conference_order"]
    frame = pd.DataFrame({"series": series, "order": order.reindex(series.index)})
    last = frame.groupby("series")["order"].transform("max")
    return set(frame.index[(frame["series"] == "") | (frame["order"] >= last)])


def recurrence_by_edition(
    groups: pd.DataFrame, links: pd.DataFrame, confs: pd.DataFrame
) -> pd.DataFrame:
    """Per edition of each series: how many recommendations it makes, how many take up an
    earlier edition's (``taken_up_from_earlier``) and how many are ``new``; how many of its
    own a later edition takes up, and how many are ``dropped`` (taken up by none; empty for
    the last edition, which nothing follows yet)."""
    if groups.empty:
        return pd.DataFrame(columns=BY_EDITION_COLUMNS)
    info = confs.set_index("doc_id")
    frame = groups[["doc_id", "series"]].copy()
    frame["conference"] = frame["doc_id"].map(info["conference"])
    frame["year"] = frame["doc_id"].map(info["year"])
    frame["conference_order"] = frame["doc_id"].map(info["conference_order"])
    frame["takes_up"] = np.isin(np.arange(len(frame)), links["b"].to_numpy(dtype=int))
    frame["taken_up"] = np.isin(np.arange(len(frame)), links["a"].to_numpy(dtype=int))
    frame = frame[frame["series"] != ""]
    table = (
        frame.groupby(["series", "conference_order", "conference", "year"], sort=True)
        .agg(recommendations=("doc_id", "size"), taken_up_from_earlier=("takes_up", "sum"),
             taken_up_later=("taken_up", "sum"))
        .reset_index()
    )  # fmt: skip
    table["new"] = table["recommendations"] - table["taken_up_from_earlier"]
    last = table.groupby("series")["conference_order"].transform("max")
    dropped = (table["recommendations"] - table["taken_up_later"]).astype(object)
    table["dropped"] = dropped.where(table["conference_order"] < last, "")
    table["edition"] = table.groupby("series").cumcount() + 1
    return table[BY_EDITION_COLUMNS].reset_index(drop=True)


@dataclass
class Recurrence:
    """What ``find_recurring`` finds: the link table with its evidence, the earlier
    recommendations not taken up, the per-edition counts, the rule, and every later
    recommendation's candidates (for measuring)."""

    pairs: pd.DataFrame
    not_taken_up: pd.DataFrame
    by_edition: pd.DataFrame
    rule: Rule
    candidates: pd.DataFrame


def find_recurring(
    recs: pd.DataFrame,
    units: pd.DataFrame,
    confs: pd.DataFrame,
    terms: TermLookup,
    vocabulary: Vocabulary,
    background: Iterable[list[str]] = (),
    rule: Rule | None = None,
    series: Mapping[str, str] | None = None,
    features: FeatureLookup | None = None,
    query_cache: QueryCache | None = None,
    *,
    half_life: float | None = POSITION_HALF_LIFE,
) -> Recurrence:
    """Recurring recommendations between editions of one series (``series``: doc_id ->
    series, ``""`` = none; by default every document is one series), decided by ``rule``."""
    rule = rule or shipped_rule()
    order = confs.set_index("doc_id")["conference_order"].to_dict()
    series = series if series is not None else dict.fromkeys(order, "all")
    recs = recs[recs["doc_id"].isin(order)]
    groups = recommendation_groups(recs, units)
    groups["series"] = groups["doc_id"].map(lambda d: series.get(d, "")).astype(str)
    empty = pd.DataFrame(columns=CANDIDATE_COLUMNS)
    candidates: pd.DataFrame = empty
    closest: dict[int, tuple[int, float]] = {}
    shared: Callable[[int, int], list[str]] = lambda a, b: []  # noqa: E731
    if not groups.empty:
        groups["_o"] = groups["doc_id"].map(order)
        groups["_u"] = pd.to_numeric(groups["unit_id"], errors="coerce")
        groups = groups.sort_values(["_o", "doc_id", "_u"], kind="stable")
        groups = groups.drop(columns=["_o", "_u"]).reset_index(drop=True)
        scorer = bm25_scorer(
            groups, terms, vocabulary, list(background), features, query_cache, half_life=half_life
        )
        conf = [order[d] for d in groups["doc_id"]]
        candidates, closest = rank_candidates(scorer, conf, groups["series"].tolist())
        shared = scorer.shared_terms
    links = decide(candidates, rule) if len(candidates) else candidates.assign(merged=False)
    pairs, left = recurring_tables(groups, links, closest, rule, confs, shared)
    by_edition = recurrence_by_edition(groups, links, confs)
    doc_ids, unit_ids = groups["doc_id"].to_numpy(), groups["unit_id"].to_numpy()
    a, b = candidates["a"].to_numpy(dtype=int), candidates["b"].to_numpy(dtype=int)
    runner, texts = candidates["runner_up"].to_numpy(dtype=int), groups["text"].to_numpy(dtype=object)
    linked = set(zip(links["a"].tolist(), links["b"].tolist(), strict=True))
    candidates = candidates.assign(
        doc_id_a=doc_ids[a], unit_id_a=unit_ids[a], doc_id_b=doc_ids[b], unit_id_b=unit_ids[b],
        text_a=texts[a], text_b=texts[b], text_runner_up=np.where(runner >= 0, texts[runner], ""),
        linked=[(i, j) in linked for i, j in zip(a.tolist(), b.tolist(), strict=True)],
    )  # fmt: skip
    return Recurrence(pairs, left, by_edition, rule, candidates)
