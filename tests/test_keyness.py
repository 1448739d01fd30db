"""Keyness: corrected for the number of terms tested, a minimum frequency, entity names whole."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.analyze.corpus import conference_list, conferences
from pipeline.analyze.keyness import benjamini_hochberg, keyness, with_entity_names


def two_conferences() -> pd.DataFrame:
    docs = pd.DataFrame(
        [
            {"doc_id": "a", "conference": "A", "year": "2011", "status": "ok"},
            {"doc_id": "b", "conference": "B", "year": "2013", "status": "ok"},
        ]
    )
    return conference_list(conferences(docs))


def test_benjamini_hochberg_matches_the_textbook_example():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # sorted 0.005, 0.01, 0.03, 0.04 -> 0.02, 0.02, 0.04, 0.04
    assert benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert (benjamini_hochberg(np.array([0.9, 0.99])) <= 1).all()


def test_many_terms_tested_make_a_borderline_term_not_significant():
    """A term seen 5 times in one conference only is significant among a few terms tested,
    not among two hundred: what it would take by chance grows with the terms tested."""
    confs = two_conferences()
    filler = [f"word{i}" for i in range(200)]
    units_a = [["mandate", "committee"]] * 5 + [["committee"]] * 7
    units_b = [["committee"]] * 12
    few = keyness(units_a + units_b, [0] * 12 + [1] * 12, confs)
    row = few[(few["conference_order"] == 0) & (few["term"] == "mandate")].iloc[0]
    assert row["significant"] and row["q_value"] >= row["p_value"]
    noise = [[w, w, w] for w in filler]  # every filler term three times in each conference
    many = keyness(units_a + noise + units_b + noise, [0] * 212 + [1] * 212, confs)
    row = many[(many["conference_order"] == 0) & (many["term"] == "mandate")].iloc[0]
    assert row["p_value"] < 0.05 and not row["significant"]
    assert set(many["n_tested"]) == {202}


def test_terms_seen_fewer_than_the_minimum_are_not_tested():
    confs = two_conferences()
    units = [["committee", "rare"]] + [["committee"]] * 5 + [["region"]] * 6
    table = keyness(units, [0] * 6 + [1] * 6, confs, min_freq=3)
    assert "rare" not in set(table["term"]) and "region" in set(table["term"])


def test_entity_names_count_whole_not_as_their_fragments():
    spans = [("World Health Organization", "World Health Organization (WHO)")]
    terms = ["health organization", "organization", "world", "vaccine", "member state"]
    assert with_entity_names(terms, spans) == ["vaccine", "member state", "World Health Organization"]
    # lemmas match inflected spans: "member state" is inside "Member States"
    assert with_entity_names(["member state", "report"], [("Member States", "Member States")]) == [
        "report",
        "Member States",
    ]
    confs = two_conferences()
    units = [["health organization", "vaccine"]] * 6 + [["committee"]] * 6
    mentions = [[spans[0]]] * 6 + [[]] * 6
    table = keyness(units, [0] * 6 + [1] * 6, confs, unit_entities=mentions)
    first = table[table["conference_order"] == 0]
    assert "World Health Organization" in set(first["term"])
    assert "health organization" not in set(table["term"])
