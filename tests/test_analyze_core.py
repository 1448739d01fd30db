"""The pure cores of the analyze stage, on small hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.analyze import themes as themes_module
from pipeline.analyze.corpus import conference_list, conferences, content_units, undated
from pipeline.analyze.entity_counts import entity_counts
from pipeline.analyze.keyness import keyness, log_likelihood
from pipeline.analyze.recurrence import (
    Rule,
    Vocabulary,
    find_recurring,
    recommendation_groups,
    shipped_rule,
)
from pipeline.analyze.terms import UnitTerms
from pipeline.analyze.theme_compare import compare_theme_models
from pipeline.analyze.themes import (
    METHODS,
    ThemeSettings,
    distinct_terms,
    fit_themes,
    k_range,
    theme_label,
    theme_shares,
    theme_tables,
)


def docs(*rows: tuple[str, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["doc_id", "conference", "year", "status"])


# --------------------------------------------------------------------------- conferences


def test_conferences_are_ordered_by_year_and_group_documents():
    table = conferences(
        docs(
            ("late", "46th Conference", "2015", "ok"),
            ("early-a", "42nd Conference", "2011", "ok"),
            ("early-b", "42nd Conference", "2011", "ok"),
            ("broken", "43rd Conference", "2012", "error"),
            ("no-name", "", "2013", "ok"),
            ("nothing", "", "", "ok"),
        )
    )
    order = dict(zip(table["doc_id"], table["conference_order"], strict=True))
    assert "broken" not in order  # unreadable documents are ignored
    assert order["early-a"] == order["early-b"] == 0  # one conference, two documents
    assert order["no-name"] == 1 and order["late"] == 2
    assert "nothing" not in order  # undated: in no conference, so in no time series
    assert list(undated(docs(("nothing", "", "", "ok")))["doc_id"]) == ["nothing"]
    labels = dict(zip(table["doc_id"], table["conference_label"], strict=True))
    assert labels["early-a"] == "42nd Conference (2011)"
    assert labels["no-name"] == "2013"  # falls back to the year
    assert list(conference_list(table)["conference_order"]) == [0, 1, 2]


def test_content_units_leave_out_headings_boilerplate_and_header_fields():
    confs = conferences(docs(("d", "C", "2011", "ok")))
    units = pd.DataFrame(
        {
            "doc_id": ["d"] * 5,
            "unit_id": ["1", "2", "3", "4", "5"],
            "kind": ["heading", "sentence", "boilerplate", "list_item", "list_item"],
            "text": [
                "Intro",
                "States should act.",
                "Please contact us.",
                "Date and Venue: 2 May",
                "more aid;",
            ],
        }
    )
    kept = content_units(units, confs)
    assert list(kept["unit_id"]) == ["2", "5"]
    assert set(kept["year"]) == {"2011"}


# --------------------------------------------------------------------------- keyness


def test_log_likelihood_is_signed_and_zero_for_equal_rates():
    g2 = log_likelihood(np.array([10.0, 5.0, 1.0]), np.array([0.0, 5.0, 9.0]), 100, 100)
    assert g2[0] > 3.84 and g2[1] == pytest.approx(0.0) and g2[2] < 0


def test_keyness_flags_a_term_used_only_in_one_conference():
    confs = conference_list(conferences(docs(("a", "A", "2011", "ok"), ("b", "B", "2013", "ok"))))
    terms = [["committee", "mandate"]] * 12 + [["region", "committee"]] * 12
    table = keyness(terms, [0] * 12 + [1] * 12, confs)
    first = table[table["conference_order"] == 0].set_index("term")
    second = table[table["conference_order"] == 1].set_index("term")
    assert first.loc["mandate", "significant"] and first.loc["mandate", "statistic"] > 0
    assert second.loc["region", "significant"]
    assert first.loc["committee", "statistic"] == pytest.approx(0.0)
    assert not first.loc["committee", "significant"]
    assert first.loc["mandate", "freq_target"] == 12 and first.loc["mandate", "freq_reference"] == 0
    # one conference: nothing to compare against
    assert keyness(terms, [0] * 24, confs.iloc[:1]).empty


# --------------------------------------------------------------------------- entities


def test_entity_counts_per_conference_count_mentions_and_units():
    confs = conferences(docs(("a", "A", "2011", "ok"), ("b", "B", "2013", "ok"), ("c", "B", "2013", "ok")))
    ents = pd.DataFrame(
        [
            ("a", "1", "IAEA", "ORG", "International Atomic Energy Agency (IAEA)", ""),
            (
                "a",
                "1",
                "the International Atomic Energy Agency",
                "ORG",
                "International Atomic Energy Agency (IAEA)",
                "",
            ),
            ("a", "2", "Kenya", "COUNTRY", "Kenya", "KEN"),
            ("b", "3", "Caribbean", "REGION", "", ""),
            ("c", "4", "Caribbean", "REGION", "Caribbean", ""),
        ],
        columns=["doc_id", "unit_id", "text", "label", "canonical", "iso3"],
    )
    table = entity_counts(ents, confs)
    iaea = table[table["canonical"].str.startswith("International")].iloc[0]
    assert (iaea["n_mentions"], iaea["n_units"], iaea["conference"]) == (2, 1, "A")
    region = table[table["label"] == "REGION"].iloc[0]
    assert (region["canonical"], region["n_mentions"], region["n_documents"]) == ("Caribbean", 2, 2)
    assert table[table["label"] == "COUNTRY"].iloc[0]["iso3"] == "KEN"


# --------------------------------------------------------------------------- themes


def two_topic_corpus(n: int = 20) -> list[list[str]]:
    a = ["committee", "mandate", "renewal", "committee mandate"]
    b = ["region", "regional coordinator", "dual benefit", "champion"]
    return [a[: 2 + i % 3] for i in range(n)] + [b[: 2 + i % 3] for i in range(n)]


def test_themes_separate_two_vocabularies_deterministically():
    settings = ThemeSettings(n_themes=2)
    model, corpus = fit_themes(two_topic_corpus(), settings)
    again, _ = fit_themes(two_topic_corpus(), settings)
    assert np.array_equal(model.unit_weights, again.unit_weights)
    dominant = model.unit_weights.argmax(axis=1)
    assert len(set(dominant[:20])) == 1 and len(set(dominant[20:])) == 1
    assert dominant[0] != dominant[20]


def test_number_of_themes_is_chosen_and_bounded_on_small_corpora():
    settings = ThemeSettings(min_themes=3, max_themes=10, min_units_per_theme=5, n_samples=3)
    assert k_range(12, 50, settings) == [2]  # 12 units: at most 2 themes of 5+ units
    assert k_range(200, 50, settings) == list(range(3, 11))
    model, _ = fit_themes(two_topic_corpus(), settings)
    assert 3 <= model.k <= 8
    assert set(model.selection["method"]) == {"nmf"}
    assert model.selection["chosen"].sum() == 1
    chosen = model.selection[model.selection["chosen"]].iloc[0]
    assert chosen["stability"] == model.selection["stability"].max()


def test_methods_are_compared_with_the_same_criterion_outside_the_run():
    settings = ThemeSettings(min_themes=2, max_themes=3, n_samples=2)
    model, _ = fit_themes(two_topic_corpus(), settings)
    assert set(model.selection["method"]) == {"nmf"}  # the run fits the configured method only
    table = compare_theme_models(two_topic_corpus(), settings)
    assert set(table["method"]) == set(METHODS)
    assert list(table["k"].unique()) == [2, 3]
    assert table.groupby("method")["best"].sum().eq(1).all()
    nmf = table[table["method"] == "nmf"].set_index("k")
    assert nmf.loc[model.k, "best"] and nmf.loc[model.k, "stability"] == model.selection["stability"].max()


def test_a_large_corpus_chooses_k_on_a_sample_and_fits_all_units():
    settings = ThemeSettings(min_themes=2, max_themes=3, n_samples=2, selection_max_units=25)
    model, corpus = fit_themes(two_topic_corpus(), settings)
    assert model.unit_weights.shape == (40, model.k)
    again, _ = fit_themes(two_topic_corpus(), settings)
    assert model.selection.equals(again.selection)
    assert np.array_equal(model.unit_weights, again.unit_weights)


def test_theme_selection_over_processes_gives_the_same_model(monkeypatch):
    monkeypatch.setattr(themes_module, "PARALLEL_MIN_UNITS", 0)  # parallel even on 40 units
    settings = ThemeSettings(min_themes=2, max_themes=4, n_samples=2)
    serial, _ = fit_themes(two_topic_corpus(), settings, jobs=1)
    parallel, _ = fit_themes(two_topic_corpus(), settings, jobs=2)
    assert serial.selection.equals(parallel.selection)
    assert np.array_equal(serial.unit_weights, parallel.unit_weights)


def test_labels_prefer_phrases_and_drop_words_they_contain():
    assert distinct_terms(["dual", "dual benefit model", "benefit", "region"], 3) == [
        "dual benefit model",
        "region",
    ]
    label = theme_label(["committee", "mandate", "committee mandate", "renewal", "work"])
    assert label.startswith("committee mandate") and "renewal" in label
    assert label.count("committee") == 1


def test_theme_tables_and_shares_trace_back_to_units():
    confs = conferences(docs(("a", "A", "2011", "ok"), ("b", "B", "2013", "ok"), ("c", "C", "2015", "ok")))
    terms = two_topic_corpus(12)  # 12 "committee" units then 12 "region" units
    doc_ids = ["a"] * 10 + ["b"] * 8 + ["c"] * 6
    units = pd.DataFrame({"doc_id": doc_ids, "unit_id": [str(i) for i in range(24)], "text": ["t"] * 24})
    units = units.merge(confs, on="doc_id")
    model, corpus = fit_themes(terms, ThemeSettings(n_themes=2))
    themes, unit_themes = theme_tables(units, model, corpus)
    assert list(themes["theme"]) == ["1", "2"]
    assert themes["n_units"].sum() == 24
    shares = theme_shares(unit_themes, themes, conference_list(confs))
    assert len(shares) == 2 * 3  # long format: theme x conference
    for (_, _), group in shares.groupby(["conference", "year"]):
        assert group["share"].sum() == pytest.approx(1.0)
        assert group["n_units"].sum() == group["n_conference_units"].iloc[0]
    first = shares[shares["conference_order"] == 0]
    assert (first["change"] == "").all()
    later = shares[shares["conference_order"] > 0]
    assert later["change"].astype(float).abs().sum() > 0
    region = themes[themes["label"].str.contains("region")]["theme"].iloc[0]
    by_conf = shares[shares["theme"] == region].set_index("year")["share"]
    assert by_conf["2011"] == 0.0 and by_conf["2015"] == 1.0


# --------------------------------------------------------------------------- recurrence


def test_list_item_sentences_form_one_recommendation_and_sentences_get_context():
    units = pd.DataFrame(
        {
            "doc_id": ["d"] * 5,
            "unit_id": ["1", "2", "3", "4", "5"],
            "kind": ["sentence", "sentence", "list_item", "list_item", "list_item"],
            "block": ["1", "1", "2", "2", "3"],
            "text": [
                "Coordinators were named.",
                "Such positions should grow.",
                "Fund it.",
                "It would help.",
                "Other.",
            ],
        }
    )
    recs = units.iloc[[1, 2, 3, 4]][["doc_id", "unit_id", "text"]]
    groups = recommendation_groups(recs, units)
    assert list(groups["unit_id"]) == ["2", "3", "5"]
    assert list(groups["unit_ids"]) == ["2", "3;4", "5"]
    assert groups.iloc[0]["context_units"] == [("d", "1")]
    assert groups.iloc[1]["text"] == "Fund it. It would help."


def test_later_recommendations_take_up_earlier_ones_by_shared_terms_and_concepts():
    confs = conferences(docs(("old", "A", "2011", "ok"), ("new", "B", "2013", "ok")))
    words = {
        ("old", "1"): ["regional", "coordinator", "position"],
        ("old", "2"): ["committee", "mandate", "renewal"],
        ("old", "3"): ["workshop", "private sector"],
        ("new", "1"): ["regional", "coordinator"],
        ("new", "2"): ["industry", "engagement"],
        ("new", "3"): ["media", "outreach"],
    }
    units = pd.DataFrame(
        [
            {"doc_id": d, "unit_id": u, "kind": "list_item", "block": u, "text": " ".join(w)}
            for (d, u), w in words.items()
        ]
    )
    recs = units[["doc_id", "unit_id", "text"]]
    vocabulary = Vocabulary(
        frozenset({"greater"}), {"private sector": ["industry"], "industry": ["industry"]}
    )

    def terms(doc_id: str, unit_id: str) -> UnitTerms:
        found = words[(doc_id, unit_id)]
        return UnitTerms(words=[w for w in found if " " not in w], phrases=[w for w in found if " " in w])

    default = find_recurring(recs, units, confs, terms, vocabulary).rule
    assert default == shipped_rule() and default.source.startswith("fitted on")
    # a rule of the settings overrides the shipped one
    found = find_recurring(recs, units, confs, terms, vocabulary, rule=Rule(0.2, 0.0, "mine"))
    pairs, left, candidates = found.pairs, found.not_taken_up, found.candidates
    assert set(pairs["threshold_source"]) == {"mine"}
    linked = set(zip(pairs["unit_id_a"], pairs["unit_id_b"], strict=True))
    assert ("1", "1") in linked  # shared words
    assert ("3", "2") in linked  # "private sector" and "industry" meet through the thesaurus
    assert not any(b == "3" for _, b in linked)  # nothing earlier speaks of media outreach
    assert list(left["unit_id"]) == ["2"] and set(left["year"]) == {"2011"}
    assert len(candidates) == 3  # every later recommendation has a best earlier match
