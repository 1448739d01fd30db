"""Recurring recommendations: which earlier recommendation a later one takes up.

Each recommendation of a later conference is compared with the recommendations of the
conferences before it (Okapi BM25 over their terms, the later one as the query); then each
later recommendation is paired with at most one earlier one, and each earlier one with at
most ``CAPACITY`` recommendations of one later conference, most similar pairs first; a pair
is kept when its similarity reaches a threshold. See docs/recurrence.md for the measurements
behind every choice below.

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

The threshold is a number from the settings, or is chosen where gold pairs exist
(``recurring_recommendations`` in ``tests/gold/*.json``) as the value that maximises F1 on
them, or else is ``DEFAULT_THRESHOLD``.
"""

from __future__ import annotations

import bisect
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from pipeline.analyze.terms import UnitTerms
from pipeline.cache import sha256_text
from pipeline.knowledge import data_path

# What the seed gold gives (docs/recurrence.md), rounded; used when no gold pair resolves.
DEFAULT_THRESHOLD = 0.22
CONTEXT_WEIGHT = (1.0, 0.25)  # (refers back, does not)
# BM25 saturation and length normalisation; b below the usual 0.75 because the texts are
# one sentence or list item each (docs/recurrence.md shows the measured alternatives)
BM25_K1 = 1.2
BM25_B = 0.3
# A term of the later recommendation counts half when a third of the recommendation's
# content words come before it, a quarter when two thirds do (docs/recurrence.md: the sweep)
POSITION_HALF_LIFE = 1 / 3
# How many recommendations of one later conference may take up the same earlier one: an
# earlier recommendation that names several parties or actions is often split into a few
# later ones (set by that reasoning, not measured into place: 1, 2, 3 score alike on gold)
CAPACITY = 2
# Earlier recommendations kept per later one for the matching
TOP_K = 20
MATCHINGS = ("greedy", "best")
CONCEPT_PREFIX = "≈"

PAIR_COLUMNS = [
    "doc_id_a", "unit_id_a", "doc_id_b", "unit_id_b", "similarity",
    "conference_a", "year_a", "conference_b", "year_b", "text_a", "text_b",
    "unit_ids_a", "unit_ids_b", "threshold", "threshold_source",
]  # fmt: skip
NOT_TAKEN_UP_COLUMNS = [
    "doc_id", "unit_id", "unit_ids", "conference", "year", "text",
    "closest_doc_id", "closest_unit_id", "closest_similarity", "threshold",
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
    return Scorer(weights(tf, mean_length), queries, np.where(self_scores > 0, self_scores, 1.0))


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


def match(
    scorer: Scorer,
    conference_order: list[int],
    matching: str = "greedy",
    top_k: int = TOP_K,
    chunk: int = 500,
    capacity: int = CAPACITY,
) -> tuple[pd.DataFrame, dict[int, tuple[int, float]]]:
    """Each later recommendation's earlier match; and each earlier one's closest later one.

    ``greedy``: each later recommendation takes up at most one earlier one, and within one
    later conference each earlier one is taken up at most ``capacity`` times; pairs are
    chosen most similar first (a stable matching) among each later recommendation's
    ``top_k`` nearest. A recommendation that does not restate an earlier one then cannot
    ride on the better match of another (an earlier sentence with a long paragraph as
    context is near many). ``best``: each later recommendation's most similar earlier one,
    independently.

    Returns one row per later recommendation: ``a`` (earlier), ``b`` (later),
    ``similarity`` and ``assigned`` (whether the pair is in the matching; if not, ``a`` is
    its nearest earlier recommendation, which went to another). Groups are in conference,
    document, unit order; ties go to the earlier group.
    """
    if matching not in MATCHINGS:
        raise ValueError(f"matching must be one of {MATCHINGS}, not {matching!r}")
    conf = np.asarray(conference_order)
    near_col = np.full(len(conf), -1)  # each group's closest later group, and how close
    near_val = np.full(len(conf), -np.inf)
    rows_out: list[dict] = []
    for level in sorted(set(conf.tolist()))[1:]:
        earlier = np.flatnonzero(conf < level)
        later = np.flatnonzero(conf == level)
        best: dict[int, tuple[int, float]] = {}
        pool: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (similarity, later, earlier)
        for start in range(0, len(later), chunk):
            cols = later[start : start + chunk]
            block = scorer.block(earlier, cols)
            top = block.argmax(axis=0)  # the first maximum: the earliest group
            best.update(
                (int(j), (int(earlier[i]), float(block[i, c])))
                for c, (j, i) in enumerate(zip(cols, top, strict=True))
            )
            near = block.argmax(axis=1)
            value = block[np.arange(len(earlier)), near]
            better = value > near_val[earlier]
            near_col[earlier[better]] = cols[near[better]]
            near_val[earlier[better]] = value[better]
            if matching == "greedy":
                rows, picked = _top_of_columns(block, top_k)
                pool.append((block[rows, picked], cols[picked], earlier[rows]))
        assigned: dict[int, tuple[int, float]] = {}
        if matching == "greedy" and pool:
            values, js, is_ = (np.concatenate(parts) for parts in zip(*pool, strict=True))
            order = np.lexsort((is_, js, -values))  # most similar first, then b, then a
            used: Counter[int] = Counter()
            ranked = zip(values[order].tolist(), js[order].tolist(), is_[order].tolist(), strict=True)
            for value, j, i in ranked:
                if j not in assigned and used[i] < capacity:
                    assigned[j] = (i, value)
                    used[i] += 1
        else:
            assigned = {j: (i, v) for j, (i, v) in best.items() if v > 0}
        for j in later.tolist():
            i, value = assigned.get(j, best[j])
            rows_out.append({"a": i, "b": j, "similarity": value, "assigned": j in assigned})
    closest = {int(i): (int(near_col[i]), float(near_val[i])) for i in np.flatnonzero(near_col >= 0)}
    columns = ["a", "b", "similarity", "assigned"]
    return pd.DataFrame(rows_out, columns=columns).astype({"assigned": bool}), closest


def _top_of_columns(block: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """(row, column) of each column's ``k`` largest positive values, ties to the earlier
    row: what a stable descending sort of each column would put first, without sorting."""
    n = block.shape[0]
    if n <= k:
        return np.nonzero(block > 0)
    kth = np.partition(block, n - k, axis=0)[n - k]  # each column's k-th largest value
    above = block > kth
    tied = block == kth
    room = k - above.sum(axis=0)  # how many of the tied values fit, earliest rows first
    chosen = above | tied
    crowded = np.flatnonzero(tied.sum(axis=0) > room)  # columns where not every tie fits
    if len(crowded):
        ties = tied[:, crowded]
        chosen[:, crowded] = above[:, crowded] | (ties & (np.cumsum(ties, axis=0) <= room[crowded]))
    return np.nonzero(chosen & (block > 0))


# --------------------------------------------------------------------------- threshold


def _norm_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'")
    return " ".join(text.lower().split())


def load_gold_pairs(files: Iterable[Path]) -> list[tuple[str, str]]:
    """Gold pairs (earlier text prefix, later text prefix) from gold JSON files."""
    pairs = []
    for file in sorted(files):
        try:
            data = json.loads(Path(file).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for pair in data.get("recurring_recommendations", []) or []:
            if isinstance(pair, list | tuple) and len(pair) == 2:
                pairs.append((str(pair[0]), str(pair[1])))
    return pairs


def resolve_gold(
    groups: pd.DataFrame, pairs: list[tuple[str, str]], conference_order: list[int] | None = None
) -> list[tuple[int, int] | None]:
    """Gold prefixes -> (group a, group b) row positions; None where a side matches no
    recommendation (the extraction missed it, or the gold is about other memos) or the
    match is ambiguous. With ``conference_order``, a must come from an earlier conference."""
    texts = [_norm_text(t) for t in groups["text"]]
    order = conference_order if conference_order is not None else [0] * len(texts)

    @cache
    def find(prefix: str) -> list[int]:
        wanted = _norm_text(prefix)
        hits = [i for i, text in enumerate(texts) if text.startswith(wanted)]
        if not hits:  # the prefix of a later sentence of a list item
            hits = [i for i, text in enumerate(texts) if f" {wanted}" in text]
        exact = [i for i in hits if texts[i] == wanted]
        return exact or hits

    resolved: list[tuple[int, int] | None] = []
    for a, b in pairs:
        combos = [(i, j) for i in find(a) for j in find(b) if i != j]
        if conference_order is not None:
            combos = [(i, j) for i, j in combos if order[i] < order[j]]
        resolved.append(combos[0] if len(combos) == 1 else None)
    return resolved


@dataclass(frozen=True)
class Threshold:
    value: float
    source: str  # how it was chosen, in words


def choose_threshold(candidates: pd.DataFrame, gold: list[tuple[int, int] | None]) -> Threshold | None:
    """The similarity cut that maximises F1 of the candidate pairs against the gold pairs.

    The caller passes only candidates within the gold's own documents (the gold says
    nothing about other memos). Among cuts with the best F1 the highest is kept (fewest
    links), placed halfway to the next lower candidate. ``None`` when no gold pair could be
    resolved or none is among the candidates (then F1 cannot guide the choice).
    """
    found = [g for g in gold if g is not None]
    if not found or candidates.empty:
        return None
    gold_set = set(found)
    scored = candidates.sort_values("similarity", ascending=False, kind="stable")
    sims = scored["similarity"].to_numpy()
    hits = np.array([(a, b) in gold_set for a, b in zip(scored["a"], scored["b"], strict=True)])
    best_f1, best_k = -1.0, 0
    for k in range(1, len(scored) + 1):
        if k < len(scored) and sims[k] == sims[k - 1]:
            continue  # a cut cannot separate equal similarities
        tp = int(hits[:k].sum())
        precision, recall = tp / k, tp / len(gold)
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        if f1 > best_f1 + 1e-12:
            best_f1, best_k = f1, k
    if best_f1 <= 0:
        return None
    low = sims[best_k - 1]
    high = sims[best_k] if best_k < len(sims) else 0.0
    value = round(float((low + high) / 2), 4)
    tp = int(hits[:best_k].sum())
    source = (
        f"gold: maximises F1 on {len(gold)} gold pairs ({len(found)} resolved): "
        f"F1={best_f1:.2f}, {tp} of {best_k} links correct"
    )
    return Threshold(value, source)


# --------------------------------------------------------------------------- outputs


def recurring_tables(
    groups: pd.DataFrame,
    candidates: pd.DataFrame,
    closest: dict[int, tuple[int, float]],
    threshold: Threshold,
    confs: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """recurring_recommendations and recommendations_not_taken_up as tables: the matched
    pairs that reach the threshold, and the earlier recommendations in none of them."""
    info = confs.set_index("doc_id")[["conference", "year", "conference_order"]].to_dict("index")
    last = confs["conference_order"].max() if len(confs) else -1
    kept = candidates[_assigned(candidates) & (candidates["similarity"] >= threshold.value)]
    records = groups[["doc_id", "unit_id", "unit_ids", "text"]].to_dict("records")
    rows = []
    for cand in kept.itertuples():
        a, b = records[cand.a], records[cand.b]
        rows.append(
            {
                "doc_id_a": a["doc_id"], "unit_id_a": a["unit_id"],
                "doc_id_b": b["doc_id"], "unit_id_b": b["unit_id"],
                "similarity": cand.similarity,
                "conference_a": info[a["doc_id"]]["conference"], "year_a": info[a["doc_id"]]["year"],
                "conference_b": info[b["doc_id"]]["conference"], "year_b": info[b["doc_id"]]["year"],
                "text_a": a["text"], "text_b": b["text"],
                "unit_ids_a": a["unit_ids"], "unit_ids_b": b["unit_ids"],
                "threshold": threshold.value, "threshold_source": threshold.source,
            }
        )  # fmt: skip
    pairs = pd.DataFrame(rows, columns=PAIR_COLUMNS)
    if not pairs.empty:
        pairs["_o"] = pairs["doc_id_b"].map(lambda d: info[d]["conference_order"])
        pairs["_u"] = pd.to_numeric(pairs["unit_id_b"], errors="coerce")
        pairs = pairs.sort_values(["_o", "doc_id_b", "_u"], kind="stable").drop(columns=["_o", "_u"])
    taken = set(kept["a"])
    left = []
    for i, group in enumerate(records):
        if i in taken or info[group["doc_id"]]["conference_order"] >= last:
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
                "threshold": threshold.value,
            }
        )  # fmt: skip
    return pairs.reset_index(drop=True), pd.DataFrame(left, columns=NOT_TAKEN_UP_COLUMNS)


def _assigned(candidates: pd.DataFrame) -> pd.Series:
    """Which candidate pairs are in the matching (all of them for a table without the
    column, as built by hand)."""
    if "assigned" in candidates:
        return candidates["assigned"].astype(bool)
    return pd.Series(True, index=candidates.index)


def find_recurring(
    recs: pd.DataFrame,
    units: pd.DataFrame,
    confs: pd.DataFrame,
    terms: TermLookup,
    vocabulary: Vocabulary,
    background: Iterable[list[str]] = (),
    gold_pairs: list[tuple[str, str]] | None = None,
    threshold_setting: object = "gold",
    features: FeatureLookup | None = None,
    query_cache: QueryCache | None = None,
    *,
    matching: str = "greedy",
    half_life: float | None = POSITION_HALF_LIFE,
) -> tuple[pd.DataFrame, pd.DataFrame, Threshold, pd.DataFrame]:
    """Recurring pairs, earlier recommendations not taken up, the threshold, and every
    later recommendation's match (``assigned`` says whether it is in the matching; kept for
    the report and for measuring). ``matching`` and ``half_life``: see :func:`match` and
    :meth:`Vocabulary.weighted`."""
    order = confs.set_index("doc_id")["conference_order"].to_dict()
    recs = recs[recs["doc_id"].isin(order)]
    groups = recommendation_groups(recs, units)
    if not groups.empty:
        groups["_o"] = groups["doc_id"].map(order)
        groups["_u"] = pd.to_numeric(groups["unit_id"], errors="coerce")
        groups = groups.sort_values(["_o", "doc_id", "_u"], kind="stable")
        groups = groups.drop(columns=["_o", "_u"]).reset_index(drop=True)
        scorer = bm25_scorer(
            groups, terms, vocabulary, list(background), features, query_cache, half_life=half_life
        )
        candidates, closest = match(scorer, [order[d] for d in groups["doc_id"]], matching)
    else:
        candidates, closest = pd.DataFrame(columns=["a", "b", "similarity", "assigned"]), {}
    threshold = _threshold(groups, candidates, gold_pairs or [], threshold_setting, order)
    pairs, left = recurring_tables(groups, candidates, closest, threshold, confs)
    doc_ids, unit_ids = groups["doc_id"].to_numpy(), groups["unit_id"].to_numpy()
    a, b = candidates["a"].to_numpy(dtype=int), candidates["b"].to_numpy(dtype=int)
    candidates = candidates.assign(
        doc_id_a=doc_ids[a], unit_id_a=unit_ids[a], doc_id_b=doc_ids[b], unit_id_b=unit_ids[b]
    )
    return pairs, left, threshold, candidates


def _threshold(
    groups: pd.DataFrame,
    candidates: pd.DataFrame,
    gold_pairs: list[tuple[str, str]],
    setting: object,
    conference_order: Mapping[str, int],
) -> Threshold:
    if not isinstance(setting, str) or setting.strip().lower() != "gold":
        try:
            return Threshold(float(setting), "setting analyze.recurrence_threshold")  # type: ignore[arg-type]
        except (TypeError, ValueError):
            pass
    gold = resolve_gold(groups, gold_pairs, [conference_order[d] for d in groups["doc_id"]])
    doc_ids = groups["doc_id"].to_numpy()
    covered = list({doc_ids[i] for pair in gold if pair for i in pair})
    mask = np.isin(doc_ids[candidates["a"].to_numpy(dtype=int)], covered) & np.isin(
        doc_ids[candidates["b"].to_numpy(dtype=int)], covered
    )
    # only pairs the matching makes can be links: the cut is chosen among them
    chosen = choose_threshold(
        candidates[np.asarray(mask, dtype=bool) & _assigned(candidates).to_numpy()], gold
    )
    if chosen is None:
        return Threshold(DEFAULT_THRESHOLD, "default (no gold pair found among these recommendations)")
    return chosen
