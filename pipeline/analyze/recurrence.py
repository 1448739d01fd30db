"""Recurring recommendations: which earlier recommendation a later one takes up.

Each recommendation of a later conference is compared with every recommendation of the
conferences before it, by a TF-IDF weighting of their terms (Okapi BM25, the later one as
the query):

- terms are content-word and verb lemmas plus noun phrases (``terms.py``), without the
  words that only mark a recommendation ("encourage", "greater", "should") — every
  recommendation has those, so they add similarity without shared content;
- a domain thesaurus (``pipeline/data/concepts.txt``) adds a concept term wherever one of
  its variants occurs, so "the private sector" and "industry" meet;
- the sentences around a recommendation in its paragraph count at reduced weight (a
  sentence that says "such positions" is about what the paragraph named before);
- the sentences of one list item are one recommendation (its later sentences elaborate it).

The later recommendation is linked to its most similar earlier one when the similarity
reaches a threshold. The threshold is a number from the settings, or is chosen where gold
pairs exist (``recurring_recommendations`` in ``tests/gold/*.json``) as the value that
maximises F1 on them, or else is ``DEFAULT_THRESHOLD`` (see docs/analysis.md).
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from pipeline.analyze.terms import UnitTerms
from pipeline.config import data_path

# Measured on the seed gold (docs/analysis.md); used when no gold pair can be resolved.
DEFAULT_THRESHOLD = 0.35
CONTEXT_WEIGHT = (1.0, 0.25)  # (refers back, does not)
# BM25 saturation and length normalisation; b below the usual 0.75 because the texts are
# one sentence or list item each (docs/analysis.md shows the measured alternatives)
BM25_K1 = 1.2
BM25_B = 0.3
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


def load_concepts(name: str = "concepts.txt") -> dict[str, list[str]]:
    """Variant term -> concepts it stands for, from the packaged thesaurus."""
    mapping: dict[str, list[str]] = {}
    for line in data_path(name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "=" not in line:
            continue
        concept, variants = line.split("=", 1)
        concept = concept.strip().lower()
        for variant in variants.split(";"):
            variant = " ".join(variant.lower().split())
            if variant:
                mapping.setdefault(variant, []).append(concept)
    return mapping


@dataclass(frozen=True)
class Vocabulary:
    """What is compared: advice words to drop (``advice_words.txt``) and the thesaurus."""

    cues: frozenset[str]
    concepts: Mapping[str, list[str]]

    def features(self, terms: Iterable[UnitTerms]) -> list[str]:
        out: list[str] = []
        for unit in terms:
            for term in [*unit.words, *unit.verbs, *unit.phrases]:
                words = term.split()
                if term in self.cues or all(w in self.cues for w in words):
                    continue
                out.append(" ".join(w for w in words if w not in self.cues) or term)
                out.extend(CONCEPT_PREFIX + c for c in self.concepts.get(term, ()))
        return out


# --------------------------------------------------------------------------- grouping


def recommendation_groups(recs: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """One row per recommendation; the sentences of one list item are taken together.

    Columns: doc_id, unit_id (the first unit), unit_ids (all units of the group, ``;``),
    text, member_units and context_units (lists of (doc_id, unit_id)): for a sentence,
    the sentences before it in its paragraph. Paragraphs and list items come from the
    ``block`` column of units.csv; without it each recommendation stands alone.
    """
    info = units.copy()
    info["unit_id"] = info["unit_id"].astype(str)
    for column in ("block", "kind"):
        if column not in info.columns:
            info[column] = ""
        info[column] = info[column].fillna("").astype(str)
    info["seq"] = pd.to_numeric(info["unit_id"], errors="coerce")
    info = info.sort_values(["doc_id", "seq"], kind="stable")
    meta = {(r.doc_id, r.unit_id): r for r in info.itertuples(index=False)}
    blocks: dict[tuple[str, str], list] = {}
    for row in info.itertuples(index=False):
        if row.block:
            blocks.setdefault((row.doc_id, row.block), []).append(row)

    recs = recs.assign(unit_id=recs["unit_id"].astype(str))
    recs = recs.assign(seq=pd.to_numeric(recs["unit_id"], errors="coerce"))
    recs = recs.sort_values(["doc_id", "seq"], kind="stable")
    rows, taken = [], set()
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
            }
        )
    columns = ["doc_id", "unit_id", "unit_ids", "text", "member_units", "context_units"]
    return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------- similarity


@dataclass
class Scorer:
    """BM25 scores between recommendations, computed one block of pairs at a time, so a
    corpus of thousands of recommendations never needs the full square matrix."""

    documents: csr_matrix  # groups x terms: BM25 weight of each term in each group
    queries: csr_matrix  # groups x terms: term counts of each group as a query
    self_scores: np.ndarray  # each query's score against itself

    def block(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``S[i, j]``: how well group ``rows[i]`` answers group ``cols[j]``, where 1 means as
        well as the query answers itself."""
        scores = (self.documents[rows] @ self.queries[cols].T).toarray()
        return np.round(scores / self.self_scores[cols][None, :], 6)


def bm25_scorer(
    groups: pd.DataFrame,
    terms: TermLookup,
    vocabulary: Vocabulary,
    background: Iterable[list[str]] = (),
    context_weight: tuple[float, float] = CONTEXT_WEIGHT,
    k1: float = BM25_K1,
    b: float = BM25_B,
) -> Scorer:
    """Okapi BM25 with the later recommendation's terms as the query and the earlier one's
    terms, plus its weighted paragraph context, as the document.

    BM25 rather than cosine because the later recommendations are often short list items
    and the earlier ones full sentences: cosine punishes the longer side for every extra
    word, BM25 only mildly (``b``). IDF comes from ``background`` (all content units) and
    the recommendations, so "regional" counts as common and "private sector" as rare.
    """
    own = [Counter(vocabulary.features(terms(d, u) for d, u in m)) for m in groups["member_units"]]
    docs = []
    for mine, members, context in zip(own, groups["member_units"], groups["context_units"], strict=True):
        refers_back = bool(members) and terms(*members[0]).anaphoric
        weight = context_weight[0] if refers_back else context_weight[1]
        tf = Counter(mine)
        for term, n in Counter(vocabulary.features(terms(d, u) for d, u in context)).items():
            tf[term] += weight * n
        docs.append(tf)
    names = sorted({t for doc in docs for t in doc})
    index = {t: i for i, t in enumerate(names)}
    df = np.zeros(len(names))
    n_docs = len(own)
    for doc in [*background, *own]:
        for t in {t for t in doc if t in index}:
            df[index[t]] += 1
    n_docs += sum(1 for _ in background)
    idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5))

    def matrix(rows: list[Counter]) -> csr_matrix:
        data, cols, ptr = [], [], [0]
        for row in rows:
            items = sorted((index[t], v) for t, v in row.items())
            cols += [c for c, _ in items]
            data += [v for _, v in items]
            ptr.append(len(cols))
        return csr_matrix((np.array(data, dtype=float), cols, ptr), shape=(len(rows), len(names)))

    tf = matrix(docs)
    lengths = np.asarray(tf.sum(axis=1)).ravel()
    mean_length = float(lengths.mean()) if len(lengths) and lengths.mean() > 0 else 1.0
    norm = np.repeat(k1 * (1 - b + b * lengths / mean_length), np.diff(tf.indptr))
    weights = tf.copy()
    weights.data = idf[tf.indices] * tf.data * (k1 + 1) / (tf.data + norm)
    queries = matrix(own)
    q_len = np.asarray(queries.sum(axis=1)).ravel()
    q_norm = np.repeat(k1 * (1 - b + b * q_len / mean_length), np.diff(queries.indptr))
    itself = queries.copy()
    itself.data = queries.data * idf[queries.indices] * queries.data * (k1 + 1) / (queries.data + q_norm)
    self_scores = np.asarray(itself.sum(axis=1)).ravel()
    return Scorer(weights, queries, np.where(self_scores > 0, self_scores, 1.0))


def best_matches(
    scorer: Scorer, conference_order: list[int], chunk: int = 2000
) -> tuple[pd.DataFrame, dict[int, tuple[int, float]]]:
    """For every recommendation of a later conference, its best earlier match; and for
    every earlier one, its closest later recommendation (to say how near it came).

    Groups are in conference, document, unit order; ties go to the earlier group.
    """
    conf = np.asarray(conference_order)
    rows_out = []
    closest: dict[int, tuple[int, float]] = {}
    for level in sorted(set(conf.tolist()))[1:]:
        earlier = np.flatnonzero(conf < level)
        later = np.flatnonzero(conf == level)
        for start in range(0, len(later), chunk):
            cols = later[start : start + chunk]
            block = scorer.block(earlier, cols)
            best = block.argmax(axis=0)  # the first maximum: the earliest group
            for col, (j, i) in enumerate(zip(cols, best, strict=True)):
                rows_out.append({"a": int(earlier[i]), "b": int(j), "similarity": float(block[i, col])})
            near = block.argmax(axis=1)
            for row, (i, col) in enumerate(zip(earlier, near, strict=True)):
                value = float(block[row, col])
                if int(i) not in closest or value > closest[int(i)][1]:
                    closest[int(i)] = (int(cols[col]), value)
    return pd.DataFrame(rows_out, columns=["a", "b", "similarity"]), closest


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
    """recurring_recommendations and recommendations_not_taken_up as tables."""
    info = confs.set_index("doc_id")[["conference", "year", "conference_order"]].to_dict("index")
    last = confs["conference_order"].max() if len(confs) else -1
    kept = candidates[candidates["similarity"] >= threshold.value]
    rows = []
    for cand in kept.itertuples():
        a, b = groups.iloc[cand.a], groups.iloc[cand.b]
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
    for i, group in groups.iterrows():
        if i in taken or info[group["doc_id"]]["conference_order"] >= last:
            continue
        near, value = closest.get(i, (None, 0.0))
        left.append(
            {
                "doc_id": group["doc_id"], "unit_id": group["unit_id"], "unit_ids": group["unit_ids"],
                "conference": info[group["doc_id"]]["conference"], "year": info[group["doc_id"]]["year"],
                "text": group["text"],
                "closest_doc_id": groups.iloc[near]["doc_id"] if near is not None else "",
                "closest_unit_id": groups.iloc[near]["unit_id"] if near is not None else "",
                "closest_similarity": value if near is not None else "",
                "threshold": threshold.value,
            }
        )  # fmt: skip
    return pairs.reset_index(drop=True), pd.DataFrame(left, columns=NOT_TAKEN_UP_COLUMNS)


def find_recurring(
    recs: pd.DataFrame,
    units: pd.DataFrame,
    confs: pd.DataFrame,
    terms: TermLookup,
    vocabulary: Vocabulary,
    background: Iterable[list[str]] = (),
    gold_pairs: list[tuple[str, str]] | None = None,
    threshold_setting: object = "gold",
) -> tuple[pd.DataFrame, pd.DataFrame, Threshold, pd.DataFrame]:
    """Recurring pairs, earlier recommendations not taken up, the threshold, and every
    later recommendation's best earlier match (kept for the report)."""
    order = confs.set_index("doc_id")["conference_order"].to_dict()
    recs = recs[recs["doc_id"].isin(order)]
    groups = recommendation_groups(recs, units)
    if not groups.empty:
        groups["_o"] = groups["doc_id"].map(order)
        groups["_u"] = pd.to_numeric(groups["unit_id"], errors="coerce")
        groups = groups.sort_values(["_o", "doc_id", "_u"], kind="stable")
        groups = groups.drop(columns=["_o", "_u"]).reset_index(drop=True)
        scorer = bm25_scorer(groups, terms, vocabulary, list(background))
        candidates, closest = best_matches(scorer, [order[d] for d in groups["doc_id"]])
    else:
        candidates, closest = pd.DataFrame(columns=["a", "b", "similarity"]), {}
    threshold = _threshold(groups, candidates, gold_pairs or [], threshold_setting, order)
    pairs, left = recurring_tables(groups, candidates, closest, threshold, confs)
    candidates = candidates.assign(
        doc_id_a=[groups.iloc[a]["doc_id"] for a in candidates["a"]],
        unit_id_a=[groups.iloc[a]["unit_id"] for a in candidates["a"]],
        doc_id_b=[groups.iloc[b]["doc_id"] for b in candidates["b"]],
        unit_id_b=[groups.iloc[b]["unit_id"] for b in candidates["b"]],
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
            return Threshold(float(setting), "setting analyze.recurrence_threshold")
        except (TypeError, ValueError):
            pass
    gold = resolve_gold(groups, gold_pairs, [conference_order[d] for d in groups["doc_id"]])
    covered = {groups.iloc[i]["doc_id"] for pair in gold if pair for i in pair}
    docs_a = [groups.iloc[a]["doc_id"] for a in candidates["a"]]
    docs_b = [groups.iloc[b]["doc_id"] for b in candidates["b"]]
    mask = [a in covered and b in covered for a, b in zip(docs_a, docs_b, strict=True)]
    chosen = choose_threshold(candidates[mask], gold)
    if chosen is None:
        return Threshold(DEFAULT_THRESHOLD, "default (no gold pair found among these recommendations)")
    return chosen
