"""Themes: series terms left out, the kept model (pin_themes, announced re-fits), and
agreement with a reader's coding of the dev series."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.analyze.theme_agreement import coded_agreement
from pipeline.analyze.theme_history import CHANGE_COLUMNS, MODEL_FILE
from pipeline.analyze.themes import (
    ThemeSettings,
    series_stop_terms,
    theme_tables,
    themes_for_run,
)
from pipeline.tableio import read_table
from tests.conftest import MEMOS, ROOT, run_cli

DEV = ROOT / "tests" / "gold" / "dev"

# four editions of an invented series held at one venue: every unit names the venue; the
# subjects move from customs to universities to banks
TOPICS = {
    "customs": ["customs officer", "border crossing", "cargo", "risk profiling", "seizure"],
    "universities": ["university", "research screening", "visiting scholar", "laboratory", "campus"],
    "banks": ["bank", "trade finance", "sanctions list", "financial intelligence", "payment"],
}
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
    run = themes_for_run(terms, terms, [True] * len(terms), editions, ThemeSettings(compare=False))
    units = pd.DataFrame(
        {"doc_id": "d", "unit_id": range(len(terms)), "conference": editions, "year": editions, "text": ""}
    )
    themes, unit_themes = theme_tables(units, run.model, run.corpus)
    assert run.model.k >= 2 and (unit_themes["theme"] != "").all()
    text = " ".join(themes["label"]) + " " + " ".join(themes["top_terms"])
    assert "lisbon" not in text and "harbour" not in text
    assert "bank" in text or "trade finance" in text


def test_fewer_than_three_editions_learn_no_series_terms():
    terms, editions = series_units()
    two = [e for e in editions if e < 2]
    assert series_stop_terms(terms[: len(two)], two) == frozenset()


def _analyze(processed: Path, raw: Path, tmp: Path, pin: bool, capsys) -> str:
    """ingest, extract and analyze (the report is not needed here); analyze's stderr."""
    config = tmp / f"pin-{pin}.toml"
    config.write_text(f"[analyze]\npin_themes = {str(pin).lower()}\ncompare = false\n", encoding="utf-8")
    for stage in ("ingest", "extract"):
        assert run_cli(stage, "--raw", raw, "--processed", processed, "--jobs", "1") == 0
    capsys.readouterr()
    assert run_cli("analyze", "--processed", processed, "--config", config, "--jobs", "1") == 0
    return capsys.readouterr().err


def test_pinned_themes_keep_every_earlier_unit_and_a_refit_is_announced(tmp_path, capsys):
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    raw.mkdir()
    memos = sorted(p for p in MEMOS.iterdir() if p.suffix in {".txt", ".md", ".pdf"})
    shutil.copy2(memos[0], raw / memos[0].name)
    _analyze(processed, raw, tmp_path, False, capsys)
    assert (processed / MODEL_FILE).exists()
    first = read_table(processed / "unit_themes.csv")
    first_themes = read_table(processed / "themes.csv")

    for memo in memos[1:]:
        shutil.copy2(memo, raw / memo.name)
    err = _analyze(processed, raw, tmp_path, True, capsys)
    assert "themes pinned" in err
    pinned = read_table(processed / "unit_themes.csv")
    kept = first.merge(pinned, on=["doc_id", "unit_id"], suffixes=("", "_now"))
    assert len(kept) == len(first) and (kept["theme"] == kept["theme_now"]).all()
    assert read_table(processed / "themes.csv")[["theme", "label"]].equals(first_themes[["theme", "label"]])
    later = pinned[~pinned["doc_id"].isin(first["doc_id"])]
    assert len(later) and (later["theme"] != "").mean() > 0.8  # the new memo's units join the kept themes
    analysis = json.loads((processed / "analysis.json").read_text(encoding="utf-8"))
    assert analysis["theme_stability"]["source"] == "pinned"
    assert analysis["corpus"] == {"documents": 2, "conferences": 2} and analysis["run_date"]

    err = _analyze(processed, raw, tmp_path, False, capsys)
    analysis = json.loads((processed / "analysis.json").read_text(encoding="utf-8"))
    changes = read_table(processed / "theme_changes.csv")
    assert list(changes.columns) == CHANGE_COLUMNS
    assert analysis["theme_stability"]["refitted"] is True
    assert analysis["theme_stability"]["n_shares_moved"] == len(changes)
    assert "themes re-fitted" in err
    if len(changes):
        assert (changes["change"].astype(float).abs() > 0.05).all() and (changes["reason"] != "").all()


@pytest.fixture(scope="module")
def dev_series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pipeline run once on the five editions of the dev series alone."""
    base = tmp_path_factory.mktemp("dev-series")
    raw = base / "raw"
    raw.mkdir()
    for path in sorted((DEV / "docs").glob("s1-*")):
        shutil.copy2(path, raw / path.name)
    for stage in ("ingest", "extract"):
        assert run_cli(stage, "--raw", raw, "--processed", base / "processed", "--jobs", "1") == 0
    assert run_cli("analyze", "--processed", base / "processed", "--jobs", "1") == 0
    return base / "processed"


def test_dev_series_themes_agree_with_the_reader_and_move_as_the_codebook_says(dev_series):
    coded = json.loads((DEV / "themes.json").read_text(encoding="utf-8"))
    unit_themes = read_table(dev_series / "unit_themes.csv")
    ami, found = coded_agreement(unit_themes, coded)
    assert found == len(coded)
    assert ami >= 0.40, ami
    # the codebook: legal foundations and control lists lead the first edition, proliferation
    # financing the last; the theme holding most of each code moves that way
    shares = read_table(dev_series / "theme_shares.csv")
    shares["share"] = shares["share"].astype(float)
    first, last = shares["conference_order"].min(), shares["conference_order"].max()
    matched = _matched(unit_themes, coded)
    by_code = pd.DataFrame([(unit_themes.loc[i, "theme"], c) for i, c in matched], columns=["theme", "code"])

    def share(theme: str, order: int) -> float:
        rows = shares[(shares["theme"] == theme) & (shares["conference_order"] == order)]
        return float(rows["share"].iloc[0])

    for code, rises in (("PF", True), ("LIST", False), ("LEG", False)):
        theme = by_code[by_code["code"] == code]["theme"].value_counts().index[0]
        assert (share(theme, last) > share(theme, first)) == rises, code


def _matched(unit_themes: pd.DataFrame, coded: list[dict]) -> list[tuple[int, str]]:
    from pipeline.analyze.theme_agreement import match_coded

    return [(i, code) for i, code in match_coded(unit_themes, coded) if i is not None]
