"""Scoring against gold files: the pure scoring rules, and `python -m pipeline evaluate`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.evaluate import main, score_processed
from pipeline.evaluate.baselines import keyword_predictions, plain_country_code
from pipeline.evaluate.corpus import GoldCorpus, GoldError, default_corpora, load_corpus, series_corpus
from pipeline.evaluate.scoring import (
    Score,
    conference_matches,
    edition_number,
    metadata_hits,
    normalise_unit_text,
    org_keys,
    score_organizations,
    score_recommendations,
    score_recurrence,
    score_regions,
    score_sets,
    theme_agreement,
    title_matches,
)
from pipeline.extract.entities import ENTITY_COLUMNS
from pipeline.extract.gazetteer import load_knowledge
from tests.conftest import GOLD
from tests.test_extract import extracted_memos, memo_context, units_frame


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extracted_memos(tmp_path_factory)


# --------------------------------------------------------------------------- pure scoring


def test_score_arithmetic() -> None:
    score = Score(tp=3, fp=1, fn=2)
    assert score.precision == 0.75
    assert score.recall == 0.6
    assert score.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert Score(1, 0, 0) + Score(0, 1, 1) == Score(1, 1, 1)
    assert Score().f1 == 1.0  # nothing to find, nothing found


def test_unit_texts_match_despite_markers_quotes_and_trailing_punctuation() -> None:
    assert normalise_unit_text("- Governments should “leverage” assistance;") == normalise_unit_text(
        'Governments should "leverage" assistance.'
    )
    assert normalise_unit_text("2) **options** for change:") == "options for change"
    assert normalise_unit_text("a) joint inspections") == "joint inspections"
    assert normalise_unit_text("States should act.") != normalise_unit_text("States should not act.")


def test_borderline_units_are_neither_rewarded_nor_punished() -> None:
    gold = [
        {"text": "States should act.", "borderline": False},
        {"text": "Donors could help.", "borderline": False},
        {"text": "A coordinator could provide memory.", "borderline": True},
    ]
    assert score_recommendations(["States should act", "A coordinator could provide memory."], gold) == Score(
        1, 0, 1
    )
    assert score_recommendations(["Participants met."], gold) == Score(0, 1, 2)


def test_organizations_match_by_acronym_or_full_name() -> None:
    gold = [
        "International Atomic Energy Agency (IAEA)",
        "Stimson Center",
        "Organisation for the Prohibition of Chemical Weapons (OPCW)",
    ]
    predicted = ["IAEA", "the Stimson Center", "Organization for the Prohibition of Chemical Weapons"]
    assert score_organizations(predicted, gold) == Score(3, 0, 0)


def test_optional_organizations_are_neutral_and_duplicates_are_false_positives() -> None:
    gold, optional = ["United Nations (UN)"], ["UN Security Council"]
    assert score_organizations(["UN Security Council", "United Nations (UN)"], gold, optional) == Score(
        1, 0, 0
    )
    assert score_organizations([], gold, optional) == Score(0, 0, 1)
    assert score_organizations(["United Nations", "UN"], gold) == Score(1, 1, 0)


def test_gazetteer_aliases_join_names_on_both_sides() -> None:
    knowledge = load_knowledge()
    assert org_keys("League of Arab States (LAS)") & org_keys("Arab League", knowledge)
    assert score_organizations(
        ["League of Arab States (LAS)"], ["Arab League"], knowledge=knowledge
    ) == Score(1, 0, 0)
    assert score_regions(["Eastern Africa"], ["East Africa"], knowledge) == Score(1, 0, 0)
    assert score_regions(["Andean region"], ["the Andean Region"]) == Score(1, 0, 0)


def test_sets_with_optional_items() -> None:
    assert score_sets({"USA", "KOR"}, {"USA", "JPN"}) == Score(1, 1, 1)
    assert score_sets({"USA", "KOR"}, {"USA"}, optional={"KOR"}) == Score(1, 0, 0)


def test_baselines_are_what_they_say() -> None:
    units = units_frame(
        ("sentence", "States should act."),
        ("boilerplate", "It should not be assumed that all agree."),
        ("sentence", "We urge donors to act."),
    )
    assert keyword_predictions(units).recommendations == [
        "States should act.",
        "It should not be assumed that all agree.",
    ]
    assert plain_country_code("Germany") == "DEU"
    assert plain_country_code("Republic of Korea") is None  # what the project's country table adds


def test_names_of_one_body_match_with_or_without_their_state_or_acronym() -> None:
    knowledge = load_knowledge()
    assert score_organizations(
        ["United Nations Security Council (UNSC)"], ["UN Security Council"], knowledge=knowledge
    ) == Score(1, 0, 0)
    assert score_organizations(
        ["Department of State"], ["U.S. Department of State"], knowledge=knowledge
    ) == Score(1, 0, 0)
    assert score_organizations(
        ["United States Department of State"], ["Department of State"], knowledge=knowledge
    ) == Score(1, 0, 0)
    assert score_organizations(
        ["Department of Energy"], ["U.S. Department of State"], knowledge=knowledge
    ) == Score(0, 1, 1)


def test_optional_regions_and_countries_are_neutral() -> None:
    knowledge = load_knowledge()
    optional = ["Middle East and North Africa (MENA)"]
    assert score_regions(["MENA", "Sahel"], ["Sahel"], knowledge, optional) == Score(1, 0, 0)
    assert score_regions(["MENA"], ["Sahel"], knowledge) == Score(0, 1, 1)


# --------------------------------------------------------------------------- metadata, recurrence, themes


def test_conference_needs_its_edition_and_half_its_words() -> None:
    gold = "3rd Annual Dialogue on Strategic Trade Controls"
    assert edition_number(gold) == 3 and edition_number("Third Annual Dialogue") == 3
    assert edition_number("Annual Dialogue") is None
    assert conference_matches("Third Annual Dialogue on Strategic Trade Controls", gold)
    assert conference_matches("Annual Dialogue on Trade Controls", gold, predicted_edition="3")
    assert not conference_matches("Annual Dialogue on Trade Controls", gold)  # edition missing
    assert not conference_matches("4th Annual Dialogue on Strategic Trade Controls", gold)
    assert not conference_matches("3rd Regional Workshop", gold)  # too few of the words
    assert not conference_matches("", gold)


def test_title_needs_word_jaccard_of_six_tenths() -> None:
    gold = "Laying the Legal Groundwork: Strategic Trade Laws in the Region"
    assert title_matches("Laying the legal groundwork - strategic trade laws", gold)
    assert not title_matches("Summary of discussions", gold)


def test_metadata_hits_cover_only_the_fields_the_gold_states() -> None:
    predicted = {
        "year": "2015",
        "date": "2015-04-20",
        "doc_type": "policy memo",
        "conference": "",
        "title": "X",
    }
    gold = {"year": 2015, "date": "2015-04-21", "doc_type": "Policy Memo", "conference": ""}
    assert metadata_hits(predicted, gold) == {"year": True, "date": False, "doc_type": True}


def test_recurrence_pairs_match_on_first_words_either_way() -> None:
    found = pd.DataFrame(
        {
            "text_a": ["Governments should adopt a national control list soon.", "Unrelated earlier text."],
            "text_b": ["- Use of the regional list as a common basis.", "Unrelated later text."],
        }
    )
    gold = [
        ["Governments should adopt a national", "use of the regional list"],
        ["Donors should pool", "External partners were asked"],
    ]
    assert score_recurrence(found, gold) == Score(tp=1, fp=1, fn=1)
    swapped = found.rename(columns={"text_a": "text_b", "text_b": "text_a"})
    assert score_recurrence(swapped, gold) == Score(tp=1, fp=1, fn=1)


def test_theme_agreement_is_adjusted_mutual_information() -> None:
    same = [("LEG", "2"), ("LEG", "2"), ("LIST", "0"), ("LIST", "0"), ("COOP", "1"), ("COOP", "1")]
    assert theme_agreement(same) == pytest.approx(1.0)
    assert theme_agreement([("LEG", "1"), ("LIST", "1"), ("COOP", "1"), ("LEG", "1")]) == pytest.approx(0.0)
    assert theme_agreement([("LEG", "1")]) is None


# --------------------------------------------------------------------------- gold corpora and the command


def test_a_gold_folder_or_a_bare_file_finds_its_documents(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "a.txt").write_text("text", encoding="utf-8")
    (folder / "gold.json").write_text(json.dumps({"docs": {"a.txt": {}, "b.txt": {}}}), encoding="utf-8")
    corpus = load_corpus(folder)
    assert corpus.find_document("a.txt") == folder / "docs" / "a.txt"
    assert corpus.find_document("b.txt") is None
    assert load_corpus(folder / "gold.json").find_document("a.txt") == folder / "docs" / "a.txt"
    elsewhere = tmp_path / "raw"
    elsewhere.mkdir()
    (elsewhere / "b.txt").write_text("text", encoding="utf-8")
    assert load_corpus(folder, [elsewhere]).find_document("b.txt") == elsewhere / "b.txt"
    (tmp_path / "notes.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(GoldError, match="notes.json"):
        load_corpus(tmp_path / "notes.json")
    with pytest.raises(GoldError, match="missing.json"):
        load_corpus(tmp_path / "missing.json")


def test_the_project_scores_the_seed_and_the_dev_corpus_by_default() -> None:
    names = {corpus.path.name for corpus in default_corpora()}
    assert {"seed_gold.json", "dev"} <= names
    seed = next(c for c in default_corpora() if c.path.name == "seed_gold.json")
    assert all(seed.find_document(source) is not None for source in seed.sources)


def test_the_project_beats_both_baselines_on_the_seed_memos(processed: Path) -> None:
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    report = score_processed(gold, memo_context(processed), load_knowledge(), baselines=True)
    project = report.systems["project"]
    assert report.metadata["year"] == (2, 2)
    assert report.systems["plain en_core_web_sm NER"]["organizations"].f1 < project["organizations"].f1
    assert report.systems["should/must/could"]["recommendations"].f1 < project["recommendations"].f1


MEMO = """Regional Workshop on Export Controls
Policy Memo, 12 May 2021

Officials from Kenya and Ghana met at the Institute for Border Studies.
Governments should designate a single national point of contact for the 1540 Committee.
"""


def test_a_user_gold_folder_is_scored_in_a_scratch_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "mine"
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "memo.txt").write_text(MEMO, encoding="utf-8")
    gold = {
        "docs": {
            "memo.txt": {
                "year": 2021,
                "countries": ["KEN", "GHA", "FRA"],
                "organizations": ["1540 Committee"],
                "organizations_optional": ["Institute for Border Studies"],
                "regions": [],
                "recommendations": [
                    {
                        "text": "Governments should designate a single national point of contact for the "
                        "1540 Committee.",
                        "actor": "Member States",
                        "borderline": False,
                    }
                ],
            },
            "absent.txt": {"countries": ["DEU"]},
        }
    }
    (folder / "gold.json").write_text(json.dumps(gold), encoding="utf-8")
    processed = tmp_path / "processed"
    ctx = memo_context(processed)
    figures = tmp_path / "figures.json"
    assert main(ctx, gold_files=[folder], baselines=False, json_path=figures) == 0
    out = capsys.readouterr().out
    assert "absent.txt" in out and "metadata per document: year 1/1" in out
    assert not processed.exists()  # the user's processed/ is never written
    (report,) = json.loads(figures.read_text(encoding="utf-8"))
    project = report["systems"]["project"]
    assert (
        project["countries"]["recall"] == pytest.approx(2 / 3, abs=1e-3)
        and project["countries"]["precision"] == 1.0
    )
    assert project["organizations"]["f1"] == 1.0 and project["recommendations"]["f1"] == 1.0
    assert report["actor"] == {"agree": 1, "found": 1, "accuracy": 1.0}
    assert main(ctx, gold_files=[tmp_path / "nowhere.json"]) == 1


def test_recurrence_and_theme_figures_come_from_the_processed_tables(tmp_path: Path) -> None:
    processed = tmp_path / "processed"
    processed.mkdir()
    texts = ["States should adopt control lists.", "States should train customs.", "Adopt lists now."]
    tables = {
        "documents": pd.DataFrame(
            {"doc_id": ["a", "b"], "source": ["a.txt", "b.txt"], "year": ["2015", "2016"]}
        ),
        "units": pd.DataFrame({"doc_id": ["a", "a", "b"], "unit_id": ["1", "2", "1"], "text": texts}),
        "entities": pd.DataFrame(columns=ENTITY_COLUMNS),
        "recommendations": pd.DataFrame(
            {
                "doc_id": ["a", "a", "b"],
                "unit_id": ["1", "2", "1"],
                "text": texts,
                "actor": ["Member States"] * 3,
            }
        ),
        "recommendation_themes": pd.DataFrame(
            {
                "doc_id": ["a", "a", "b"],
                "unit_id": ["1", "2", "1"],
                "theme": ["0", "1", "0"],
                "theme_label": "",
            }
        ),
        "recurring_recommendations": pd.DataFrame({"text_a": [texts[0]], "text_b": [texts[2]]}),
    }
    for name, table in tables.items():
        table.to_csv(processed / f"{name}.csv", index=False)
    gold = {
        "docs": {"a.txt": {"year": 2015}, "b.txt": {"year": 2017}},
        "recurring_recommendations": [
            ["States should adopt", "Adopt lists"],
            ["States should train", "Train"],
        ],
    }
    coded = [
        {"doc": "a.txt", "text": texts[0], "theme": "LIST"},
        {"doc": "a.txt", "text": texts[1], "theme": "CUSTOMS"},
        {"doc": "b.txt", "text": texts[2], "theme": "LIST"},
    ]
    report = score_processed(gold, memo_context(processed), load_knowledge(), baselines=False, themes=coded)
    assert report.metadata == {"year": (1, 2)}
    assert report.recurrence == Score(tp=1, fp=0, fn=1)
    assert report.themes == {"ami": 1.0, "matched": 3, "coded": 3}


def test_series_corpus_keeps_only_the_documents_of_a_conference() -> None:
    docs = {
        "a.txt": {"conference": "First Dialogue"},
        "b.txt": {"conference": "Second Dialogue"},
        "c.txt": {},
    }
    corpus = load_corpus_from(docs)
    assert series_corpus(corpus) is not None and set(series_corpus(corpus).gold["docs"]) == {"a.txt", "b.txt"}
    assert (
        series_corpus(load_corpus_from({k: docs[k] for k in ("a.txt", "b.txt")})) is None
    )  # all are the series
    assert series_corpus(load_corpus_from({k: docs[k] for k in ("a.txt", "c.txt")})) is None  # one edition


def load_corpus_from(docs: dict) -> GoldCorpus:
    return GoldCorpus(path=Path("gold.json"), gold={"docs": docs}, doc_dirs=())


SERIES_MEMO = """{ordinal} Regional Dialogue on Export Controls
Summary, 12 May {year}

Governments should publish one list of controlled goods in each national language.
Customs services should train their officers in commodity identification every year.
"""


def test_recurrence_and_themes_are_scored_on_the_series_run_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "corpus"
    (folder / "docs").mkdir(parents=True)
    for name, ordinal, year in (("s1.txt", "First", 2015), ("s2.txt", "Second", 2016)):
        (folder / "docs" / name).write_text(SERIES_MEMO.format(ordinal=ordinal, year=year), encoding="utf-8")
    (folder / "docs" / "news.txt").write_text(MEMO, encoding="utf-8")
    gold = {
        "docs": {
            "s1.txt": {"year": 2015, "conference": "First Regional Dialogue on Export Controls"},
            "s2.txt": {"year": 2016, "conference": "Second Regional Dialogue on Export Controls"},
            "news.txt": {"year": 2021},
        },
        "recurring_recommendations": [["Governments should publish", "Governments should publish"]],
    }
    (folder / "gold.json").write_text(json.dumps(gold), encoding="utf-8")
    coded = [{"doc": doc, "text": "Governments should publish", "theme": "LIST"} for doc in gold["docs"]]
    (folder / "themes.json").write_text(json.dumps(coded), encoding="utf-8")
    figures = tmp_path / "figures.json"
    ctx = memo_context(tmp_path / "processed")
    assert main(ctx, gold_files=[folder], baselines=False, json_path=figures) == 0
    assert "recurring recommendations (series alone: 2 documents)" in capsys.readouterr().out
    (report,) = json.loads(figures.read_text(encoding="utf-8"))
    assert report["documents"] == 3 and report["series_alone"]["documents"] == 2
    assert report["series_alone"]["recurrence"]["tp"] == 1
    assert report["themes"]["coded"] == 3 and report["series_alone"]["themes"]["coded"] == 2
