"""Scoring against gold files: the pure scoring rules, and `python -m pipeline evaluate`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.evaluate import (
    Score,
    discover_gold_files,
    keyword_predictions,
    main,
    normalise_unit_text,
    org_keys,
    plain_country_code,
    score_organizations,
    score_recommendations,
    score_regions,
    score_sets,
)
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


# --------------------------------------------------------------------------- gold files and the command


def test_gold_files_are_discovered_in_tests_gold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "tests" / "gold"
    folder.mkdir(parents=True)
    (folder / "extra_gold.json").write_text(json.dumps({"docs": {}}), encoding="utf-8")
    (folder / "notes.json").write_text(json.dumps(["not", "gold"]), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert [p.name for p in discover_gold_files()] == ["extra_gold.json"]


def test_evaluate_prints_three_systems_side_by_side(
    processed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(memo_context(processed), gold_files=[GOLD]) == 0
    out = capsys.readouterr().out
    assert "project" in out and "plain en_core_web_sm NER" in out and "should/must/could" in out
    rows = {
        line.split()[0]: line.split()[1:]
        for line in out.splitlines()
        if line.split()[:1]
        and line.split()[0] in {"recommendations", "countries", "organizations", "regions"}
    }
    project_f1 = {task: float(cells[2]) for task, cells in rows.items()}
    assert project_f1["recommendations"] >= 0.95
    assert project_f1["countries"] == 1.0
    assert project_f1["organizations"] >= 0.95
    assert project_f1["regions"] >= 0.9
    plain_org_f1 = float(rows["organizations"][5])
    keyword_rec_f1 = float(rows["recommendations"][4])  # the plain model has no recommendation cell
    assert plain_org_f1 < project_f1["organizations"]
    assert keyword_rec_f1 < project_f1["recommendations"]


def test_a_user_gold_file_in_the_same_format_is_scored(
    processed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = json.loads(GOLD.read_text(encoding="utf-8"))
    source = next(s for s in seed["docs"] if s.startswith("2013"))
    user_gold = {
        "docs": {
            source: {
                "countries": ["USA", "FRA"],
                "organizations": ["IAEA"],
                "regions": [],
                "recommendations": [],
            },
            "missing-memo.txt": {"countries": ["DEU"]},
        }
    }
    path = tmp_path / "user_gold.json"
    path.write_text(json.dumps(user_gold), encoding="utf-8")
    assert main(memo_context(processed), gold_files=[path], baselines=False) == 0
    out = capsys.readouterr().out
    assert "missing-memo.txt" in out
    countries = next(line for line in out.splitlines() if line.startswith("countries"))
    precision, recall, _ = (float(x) for x in re.findall(r"\d\.\d\d", countries))
    assert recall == 0.5  # USA found, FRA is not in the memo
    assert precision < 0.2  # the memo names twelve states the user did not label
