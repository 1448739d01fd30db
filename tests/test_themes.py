"""Themes: series terms left out, the kept model (pin_themes, announced re-fits), and
agreement with a reader's coding of the dev series."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from pipeline.analyze.theme_agreement import coded_agreement, match_coded
from pipeline.analyze.theme_history import CHANGE_COLUMNS, MODEL_FILE, kept_units
from pipeline.analyze.themes import (
    ThemeSettings,
    best_k,
    meeting_names,
    name_stop_terms,
    series_stop_terms,
    theme_tables,
    themes_for_run,
)
from pipeline.tableio import read_table
from tests.conftest import ROOT, run_cli

DEV = ROOT / "tests" / "gold" / "dev"

# four editions of an invented series held at one venue: every unit names the venue; the
# subjects move from customs to universities to banks
TOPICS = {
    "customs": ["customs officer", "border crossing", "cargo", "risk profiling", "seizure", "container",
                "transshipment", "port authority", "manifest", "detection equipment"],
    "universities": ["university", "research screening", "visiting scholar", "laboratory", "campus",
                     "academic outreach", "due diligence", "technical data", "cloud service", "faculty"],
    "banks": ["bank", "trade finance", "sanctions list", "financial intelligence", "payment",
              "supervisor", "letter of credit", "beneficial owner", "correspondent bank", "wire transfer"],
}  # fmt: skip
PLAN = [["customs"] * 8 + ["universities"] * 2, ["customs"] * 5 + ["universities"] * 5,
        ["universities"] * 6 + ["banks"] * 4, ["banks"] * 8 + ["customs"] * 2]  # fmt: skip


def series_units() -> tuple[list[list[str]], list[int]]:
    rng = np.random.default_rng(3)
    terms, editions = [], []
    for edition, topics in enumerate(PLAN):
        for topic in topics:
            words = list(rng.choice(TOPICS[topic], size=3, replace=False))
            terms.append([*words, "harbour forum", "lisbon"])
            editions.append(edition)
    return terms, editions


def test_series_terms_are_left_out_of_themes_and_labels():
    terms, editions = series_units()
    stop = series_stop_terms(terms, editions)
    assert {"harbour forum", "lisbon"} <= stop
    # named in every edition but peaking where it is discussed: a subject, not the series
    assert not stop & {"customs officer", "university", "bank"}
    run = themes_for_run(terms, terms, [True] * len(terms), editions, ThemeSettings())
    units = pd.DataFrame(
        {"doc_id": "d", "unit_id": range(len(terms)), "conference": editions, "year": editions, "text": ""}
    )
    themes, unit_themes = theme_tables(units, run.model, run.corpus)
    assert run.model.k >= 2 and (unit_themes["theme"] != "").all()
    text = " ".join(themes["label"]) + " " + " ".join(themes["top_terms"])
    assert "lisbon" not in text and "harbour" not in text
    assert "bank" in text or "trade finance" in text


def test_editions_that_say_the_same_things_keep_their_vocabulary():
    """A corpus recombined from a few memos: every subject in every edition at the same
    rate. Only a few terms may go, and themes are still found."""
    terms, editions = series_units()
    shuffled = list(np.random.default_rng(5).permutation(editions))
    stop = series_stop_terms(terms, shuffled)
    assert len(stop) <= 0.1 * len({t for unit in terms for t in unit})
    run = themes_for_run(terms, terms, [True] * len(terms), shuffled, ThemeSettings())
    assert run.model.k >= 2


def test_fewer_than_three_editions_learn_no_series_terms():
    terms, editions = series_units()
    two = [e for e in editions if e < 2]
    assert series_stop_terms(terms[: len(two)], two) == frozenset()


def test_meeting_names_venues_and_organizers_are_left_out_of_themes_and_labels():
    """Named in two editions only, so not a series term by its spread: the venue and the
    organizer are known from documents.csv instead."""
    terms, editions = series_units()
    pairs = zip(terms, editions, strict=True)
    named = [[*t[:3], "porto", "maritime institute"] if e < 2 else t[:3] for t, e in pairs]
    documents = pd.DataFrame(
        {"doc_id": ["a", "b"], "venue": ["Porto, Portugal", ""], "organizer": ["Maritime Institutes", None]}
    )
    names = meeting_names(documents)
    assert names == ["Maritime Institutes", "Porto, Portugal"]
    vocabulary = {t for unit in named for t in unit}
    assert name_stop_terms(names, vocabulary) == {"porto", "maritime institute"}
    run = themes_for_run(named, named, [True] * len(named), editions, ThemeSettings(), names=names)
    units = pd.DataFrame(
        {"doc_id": "d", "unit_id": range(len(named)), "conference": editions, "year": editions, "text": ""}
    )
    themes, _ = theme_tables(units, run.model, run.corpus)
    text = " ".join(themes["label"]) + " " + " ".join(themes["top_terms"])
    assert "porto" not in text and "maritime" not in text and run.model.k >= 2


def test_k_is_the_smallest_within_one_standard_error_of_the_most_stable():
    table = pd.DataFrame(
        {"method": "nmf", "k": [3, 4, 5], "stability": [0.56, 0.50, 0.59], "stability_se": [0.07, 0.03, 0.04]}
    )
    assert best_k(table, "nmf") == 3
    assert best_k(table.assign(stability_se=0.01), "nmf") == 5


@pytest.fixture(scope="module")
def dev_series(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The dev series run as a user grows it: the first four editions, then the fifth added
    with pin_themes, then re-fitted, then fitted afresh (the kept model deleted). Each
    step's tables and analysis.json are kept."""
    base = tmp_path_factory.mktemp("dev-series")
    raw, processed = base / "raw", base / "processed"
    raw.mkdir()
    editions = sorted((DEV / "docs").glob("s1-*"))
    steps: dict[str, object] = {}

    def step(name: str, pin: bool = False) -> None:
        config = base / f"{name}.toml"
        config.write_text(f"[analyze]\npin_themes = {str(pin).lower()}\n", encoding="utf-8")
        for stage in ("ingest", "extract"):
            assert run_cli(stage, "--raw", raw, "--processed", processed, "--jobs", "1") == 0
        assert run_cli("analyze", "--processed", processed, "--config", config, "--jobs", "1") == 0
        steps[name] = {
            table: read_table(processed / f"{table}.csv")
            for table in ("themes", "unit_themes", "theme_shares", "theme_changes")
        }
        steps[name]["analysis"] = json.loads((processed / "analysis.json").read_text(encoding="utf-8"))

    for path in editions[:-1]:
        shutil.copy2(path, raw / path.name)
    step("four")
    assert (processed / MODEL_FILE).exists()
    shutil.copy2(editions[-1], raw / editions[-1].name)
    step("pinned", pin=True)
    step("refitted")
    (processed / MODEL_FILE).unlink()
    step("fresh")
    return steps


def test_pinned_themes_keep_every_earlier_unit(dev_series):
    four, pinned = dev_series["four"], dev_series["pinned"]
    kept = four["unit_themes"].merge(pinned["unit_themes"], on=["doc_id", "unit_id"], suffixes=("", "_now"))
    assert len(kept) == len(four["unit_themes"]) and (kept["theme"] == kept["theme_now"]).all()
    assert pinned["themes"][["theme", "label"]].equals(four["themes"][["theme", "label"]])
    later = pinned["unit_themes"][~pinned["unit_themes"]["doc_id"].isin(four["unit_themes"]["doc_id"])]
    assert len(later) and (later["theme"] != "").mean() > 0.8  # the new edition joins the kept themes
    stability = pinned["analysis"]["theme_stability"]
    assert stability["source"] == "pinned" and stability["kept_units_share"] == 1.0
    assert pinned["theme_changes"].empty
    assert (
        pinned["analysis"]["corpus"] == {"documents": 5, "conferences": 5} and pinned["analysis"]["run_date"]
    )


def test_a_refit_keeps_most_earlier_units_and_says_which_shares_moved(dev_series):
    four, refitted = dev_series["four"], dev_series["refitted"]
    stability = refitted["analysis"]["theme_stability"]
    assert stability["refitted"] is True and stability["message"].startswith("analyze: themes re-fitted")
    # the units of the first four editions, against the run on those four alone (analysis.json
    # measures against the run just before, here the pinned one)
    assert kept_units(four["unit_themes"], refitted["unit_themes"]) >= 0.85
    assert 0.5 < stability["kept_units_share"] <= 1
    changes = refitted["theme_changes"]
    assert list(changes.columns) == CHANGE_COLUMNS and stability["n_shares_moved"] == len(changes)
    if len(changes):
        assert (changes["change"].astype(float).abs() > 0.05).all() and (changes["reason"] != "").all()
        earlier = set(dev_series["pinned"]["theme_shares"]["conference"])  # the run just before
        assert set(changes["conference"]) <= earlier


def test_dev_series_themes_agree_with_the_reader_and_move_as_the_codebook_says(dev_series):
    fresh = dev_series["fresh"]
    coded = json.loads((DEV / "themes.json").read_text(encoding="utf-8"))
    unit_themes = fresh["unit_themes"]
    ami, found = coded_agreement(unit_themes, coded)
    assert found == len(coded)
    assert ami >= 0.40, ami
    # labels carry none of the series' own terms (its name, venue, organizer)
    left_out = set(fresh["analysis"]["theme_stability"]["series_terms_left_out"])
    assert {"southeast asia", "dialogue"} <= left_out
    assert not any(term in label for label in fresh["themes"]["label"] for term in ("asia", "dialogue"))
    # the codebook: legal foundations and control lists lead the first edition, proliferation
    # financing the last; the theme holding most of each code moves that way
    shares = fresh["theme_shares"]
    shares["share"] = shares["share"].astype(float)
    first, last = shares["conference_order"].min(), shares["conference_order"].max()
    matched = [(i, c) for i, c in match_coded(unit_themes, coded) if i is not None]
    by_code = pd.DataFrame([(unit_themes.loc[i, "theme"], c) for i, c in matched], columns=["theme", "code"])

    def share(theme: str, order: int) -> float:
        rows = shares[(shares["theme"] == theme) & (shares["conference_order"] == order)]
        return float(rows["share"].iloc[0])

    for code, rises in (("PF", True), ("LIST", False), ("LEG", False)):
        theme = by_code[by_code["code"] == code]["theme"].value_counts().index[0]
        assert (share(theme, last) > share(theme, first)) == rises, code
