"""Recurring recommendations: the pure functions on small hand-written lists, and a made-up
2014 memo that restates some 2013 recommendations in new words (docs/recurrence.md)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.analyze.corpus import conferences
from pipeline.analyze.recurrence import (
    CAPACITY,
    CONCEPT_PREFIX,
    DEFAULT_THRESHOLD,
    Vocabulary,
    find_recurring,
    load_concepts,
    match,
)
from pipeline.analyze.terms import TermExtractor, UnitTerms, load_word_list
from pipeline.config import data_path
from pipeline.nlp import load_model
from tests.conftest import MEMOS

ROOT = Path(__file__).resolve().parent.parent
THESAURUS = {
    "private sector": ["industry"],
    "industry": ["industry"],
    "focal point": ["coordinator"],
    "coordinator": ["coordinator"],
}


def vocabulary(concepts: dict[str, list[str]] | None = None) -> Vocabulary:
    return Vocabulary(
        frozenset({"greater", "encouragement", "focus"}), THESAURUS if concepts is None else concepts
    )


def unit(words: str = "", verbs: str = "", phrases: tuple[str, ...] = ()) -> UnitTerms:
    return UnitTerms(words=words.split(), verbs=verbs.split(), phrases=list(phrases))


# --------------------------------------------------------------------------- what is compared


def test_thesaurus_variants_become_one_term_inside_phrases_too():
    vocab = vocabulary()
    assert vocab.canonical("private sector") == f"{CONCEPT_PREFIX}industry"
    assert vocab.canonical("private sector engagement") == f"{CONCEPT_PREFIX}industry engagement"
    assert vocab.canonical("national focal point") == f"national {CONCEPT_PREFIX}coordinator"
    assert vocab.canonical("regional workshop") == "regional workshop"
    # the words of a known phrase count once, as the phrase; advice words do not count
    terms = unit("greater private sector workshop", phrases=("private sector", "greater focus"))
    assert Counter(vocab.features([terms])) == Counter({f"{CONCEPT_PREFIX}industry": 1, "workshop": 1})


def test_later_terms_weigh_by_where_they_come_and_boilerplate_does_not_count():
    vocab = vocabulary()
    text = "encouragement of greater focus on industry engagement based on enlightened self-interest;"
    terms = unit(
        "greater focus industry engagement self interest", "base enlighten", ("industry engagement",)
    )
    weights = vocab.weighted([(terms, text)], half_life=1 / 3)
    # "industry" opens the recommendation once the advice words are set aside
    assert weights[f"{CONCEPT_PREFIX}industry"] == 1.0
    assert weights[f"{CONCEPT_PREFIX}industry engagement"] == 1.0
    order = ["engagement", "base", "enlighten", "self interest"]
    assert [weights[t] for t in order] == sorted((weights[t] for t in order), reverse=True)
    assert weights["self interest"] < 0.25
    assert set(vocab.weighted([(terms, text)], half_life=None).values()) == {1.0}
    # a form the text does not show ("brought" for "bring") is put in the middle, not first
    moved = vocab.weighted([(unit("company country", "bring"), "Companies should be brought to the country")])
    assert moved["company"] == 1.0
    assert moved["bring"] < 1.0


def test_the_packaged_thesaurus_is_well_formed():
    """One group per variant, in lower case as terms.py writes terms; every group names at
    least two variants."""
    groups: dict[str, list[str]] = {}
    for line in data_path("concepts.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "=" in line:
            concept, variants = line.split("=", 1)
            groups[concept.strip()] = [v.strip() for v in variants.split(";") if v.strip()]
    assert len(groups) >= 10
    seen = Counter(v for variants in groups.values() for v in variants)
    assert [v for v, n in seen.items() if n > 1] == []
    for concept, variants in groups.items():
        assert len(variants) >= 2, concept
        for variant in variants:
            assert variant == variant.lower(), variant
    assert all(len(concepts) == 1 for concepts in load_concepts().values())


# --------------------------------------------------------------------------- matching


class FixedScores:
    """A scorer with given similarities (rows: all groups as earlier, cols: as later)."""

    def __init__(self, matrix: np.ndarray) -> None:
        self.matrix = matrix

    def block(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return self.matrix[np.ix_(rows, cols)]


def test_each_earlier_recommendation_is_taken_up_a_limited_number_of_times():
    # groups 0, 1 earlier; 2, 3, 4 later; all three later ones are nearest to group 0
    sims = np.zeros((5, 5))
    sims[0, 2:] = [0.9, 0.8, 0.7]
    sims[1, 2:] = [0.1, 0.5, 0.2]
    scorer = FixedScores(sims)
    order = [0, 0, 1, 1, 1]
    one, _ = match(scorer, order, capacity=1)
    assert list(zip(one["a"], one["b"], one["assigned"], strict=True)) == [
        (0, 2, True),
        (1, 3, True),  # its second choice: group 0 went to the closer group 2
        (0, 4, False),  # group 1 is taken too: no pair, and the nearest is shown
    ]
    two, _ = match(scorer, order, capacity=2)
    assert list(zip(two["a"], two["b"], two["assigned"], strict=True)) == [
        (0, 2, True),
        (0, 3, True),
        (1, 4, True),
    ]
    best, closest = match(scorer, order, "best")
    assert list(best["a"]) == [0, 0, 0] and best["assigned"].all()
    assert closest == {0: (2, 0.9), 1: (3, 0.5)}
    with pytest.raises(ValueError):
        match(scorer, order, "hungarian")


def tables(earlier: dict[str, str], later: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = [("old", u, "list_item", u, t) for u, t in earlier.items()]
    rows += [("new", u, "list_item", u, t) for u, t in later.items()]
    units = pd.DataFrame(rows, columns=["doc_id", "unit_id", "kind", "block", "text"])
    docs = pd.DataFrame(
        [("old", "44th", "2013", "ok"), ("new", "45th", "2014", "ok")],
        columns=["doc_id", "conference", "year", "status"],
    )
    return units, conferences(docs)


def test_a_recommendation_sharing_nothing_with_earlier_ones_takes_none_up():
    words = {
        ("old", "1"): "regional coordinator position",
        ("old", "2"): "workshop private sector",
        ("new", "1"): "focal point region",
        ("new", "2"): "container screening port",
    }
    units, confs = tables({"1": words["old", "1"], "2": words["old", "2"]}, {"1": "", "2": ""})
    units["text"] = [words[k] for k in zip(units["doc_id"], units["unit_id"], strict=True)]

    def terms(doc_id: str, unit_id: str) -> UnitTerms:
        found = words[(doc_id, unit_id)]
        phrases = [p for p in ("private sector", "focal point") if p in found]
        return UnitTerms(
            words=[w for w in found.split() if not any(w in p for p in phrases)], phrases=phrases
        )

    recs = units[["doc_id", "unit_id", "text"]]
    pairs, left, threshold, candidates = find_recurring(
        recs, units, confs, terms, vocabulary(), threshold_setting=0.01
    )
    assert list(zip(pairs["unit_id_a"], pairs["unit_id_b"], strict=True)) == [("1", "1")]
    assert threshold.value == 0.01
    assert list(left["unit_id"]) == ["2"]  # nothing later speaks of workshops or industry
    assert candidates.set_index("unit_id_b").loc["2", "similarity"] == 0.0
    assert not candidates.set_index("unit_id_b").loc["2", "assigned"]


# --------------------------------------------------------------------------- a third memo

MEMO_2013 = [
    "options for changing the perception that resolution 1540 (2004) is only a mandated objective but in "
    "addition it also constitutes an opportunity for governments to fulfill their pressing obligations to "
    "citizens;",
    "tailoring the dual benefit approach by country and also leveraging regional/subregional organizations "
    "and encourage intraregional coordination to act as a force multiplier;",
    "identifying countries in key regions that can be regional champions for the dual benefit model;",
    "encouragement of greater inter-ministerial coordination;",
    "greater outreach emphasis to Member States on the value-added of 1540-related reporting;",
    "increased support to the 1540 regional coordinators (including by creating new such positions);",
    "coordination and leveraging assistance beyond traditional paradigms in order to stretch increasingly "
    "limited funding, avoid duplication of efforts;",
    "encouragement of greater focus on industry engagement based on enlightened self-interest;",
    "encouragement of an increasing media and Member State outreach by making dual benefit success stories "
    "available and accessible and countering myths of 1540 implementation having a negative impact on "
    "economic growth and development;",
    "encouragement of civil society efforts to map areas and topics of overlap between not only "
    "international security mandates and higher priority national security and development concerns, but "
    "also overlaps between the operating spaces of various existing security programming instruments.",
]
# A made-up 2014 memo: each recommendation with the 2013 item (1-based) it restates, if any.
MEMO_2014 = [
    (
        "Companies and trade associations should be brought into national and regional implementation "
        "efforts.",
        8,
    ),
    ("Every region should have a 1540 focal point, and existing focal points need stable funding.", 6),
    (
        "Assistance providers should pool their programmes so that limited funds go further and efforts are "
        "not duplicated.",
        7,
    ),
    ("Port authorities should screen shipping containers for radioactive material.", None),
    ("Ministries within each government should coordinate their work on 1540 more closely.", 4),
    (
        "Success stories of the dual benefit approach should be publicised to counter the myth that 1540 "
        "harms economic growth.",
        9,
    ),
    (
        "Non-governmental organizations should be funded to identify where security and development "
        "programmes overlap.",
        10,
    ),
    ("The Security Council should hold an open debate on nuclear terrorism every two years.", None),
]


@pytest.fixture(scope="module")
def third_memo() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The 2013 list and the 2014 memo compared as the pipeline compares them: real terms
    (spaCy), the packaged word lists, IDF from the two real memos' lines as well."""
    units, confs = tables(
        {str(i + 1): t for i, t in enumerate(MEMO_2013)},
        {str(i + 1): t for i, (t, _) in enumerate(MEMO_2014)},
    )
    extractor = TermExtractor(
        load_model("en_core_web_sm", exclude=("ner",)),
        load_word_list("theme_stopwords.txt") | load_word_list("advice_words.txt"),
    )
    keys = zip(units["doc_id"], units["unit_id"], strict=True)
    found = dict(zip(keys, extractor.extract(list(units["text"])), strict=True))
    lines = [
        line.strip()
        for memo in sorted(MEMOS.glob("*.txt"))
        for line in memo.read_text(encoding="utf-8").splitlines()
        if len(line.split()) > 3
    ]
    vocab = Vocabulary(load_word_list("advice_words.txt"), load_concepts())
    background = [vocab.features([t]) for t in [*extractor.extract(lines), *found.values()]]
    pairs, left, _, candidates = find_recurring(
        units[["doc_id", "unit_id", "text"]],
        units,
        confs,
        lambda d, u: found[(d, u)],
        vocab,
        background,
        threshold_setting=DEFAULT_THRESHOLD,
    )
    return pairs, left, candidates


def test_a_third_memo_takes_up_what_it_restates_and_nothing_else(third_memo):
    pairs, left, candidates = third_memo
    intended = {str(i + 1): str(target) if target else None for i, (_, target) in enumerate(MEMO_2014)}
    links = dict(zip(pairs["unit_id_b"], pairs["unit_id_a"], strict=True))
    right = [b for b, a in links.items() if intended[b] == a]
    wrong = [b for b, a in links.items() if intended[b] != a]
    # measured: 4 right, 0 wrong; "companies" and "ministries" stay just under the threshold
    assert len(right) >= 4 and len(wrong) <= 1, (right, wrong)
    assert links.keys().isdisjoint({"4", "8"})  # port screening, an open debate: new advice
    # among the restatements, the matched earlier recommendation is the restated one
    restated = candidates[candidates["unit_id_b"].map(intended).notna()]
    hits = restated["unit_id_a"] == restated["unit_id_b"].map(intended)
    assert hits.sum() >= 5, restated[["unit_id_b", "unit_id_a", "similarity"]]
    assert set(pairs["doc_id_a"]) == {"old"} and set(pairs["doc_id_b"]) == {"new"}
    assert not set(left["unit_id"]) & set(pairs["unit_id_a"])
    assert pairs.groupby("unit_id_a").size().max() <= CAPACITY


@pytest.mark.parametrize("seed", range(5))
def test_top_of_columns_is_what_a_stable_sort_puts_first(seed: int) -> None:
    """Each column's k largest positive values, ties to the earlier row, as a stable
    descending sort would give them: on blocks full of ties (scores are rounded)."""
    from pipeline.analyze.recurrence import _top_of_columns

    rng = np.random.default_rng(seed)
    block = rng.integers(-1, 4, size=(40, 30)).astype(float) / 3  # few values: many ties
    k = 5
    rows, cols = _top_of_columns(block, k)
    found = set(zip(rows.tolist(), cols.tolist(), strict=True))
    expected = set()
    for col in range(block.shape[1]):
        order = np.argsort(-block[:, col], kind="stable")[:k]
        expected |= {(int(r), col) for r in order if block[r, col] > 0}
    assert found == expected
