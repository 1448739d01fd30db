"""The analyze and report stages on the two real memos (one shared pipeline run)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.analyze.corpus import conferences, content_units
from pipeline.analyze.term_cache import term_units, unit_terms
from pipeline.analyze.theme_compare import compare_theme_models
from pipeline.analyze.themes import ThemeSettings
from pipeline.cli import main as cli_main
from pipeline.config import Context, Paths
from pipeline.tableio import read_table
from tests.conftest import MEMOS

ROOT = Path(__file__).resolve().parent.parent
GOLD = json.loads((ROOT / "tests" / "gold" / "seed_gold.json").read_text(encoding="utf-8"))
TABLES = {
    "themes": ["theme", "label", "top_terms", "n_units"],
    "theme_shares": ["theme", "label", "year", "conference", "share", "n_units", "change"],
    "unit_themes": ["doc_id", "unit_id", "theme", "weight"],
    "keyness": [
        "conference",
        "year",
        "term",
        "statistic",
        "p_value",
        "significant",
        "freq_target",
        "freq_reference",
    ],
    "recurring_recommendations": [
        "doc_id_a",
        "unit_id_a",
        "doc_id_b",
        "unit_id_b",
        "similarity",
        "text_a",
        "text_b",
    ],
    "recommendations_not_taken_up": ["doc_id", "unit_id", "text"],
    "entity_counts": ["conference", "year", "label", "canonical", "n_mentions", "n_units"],
    "theme_models": ["method", "k", "stability", "coherence", "chosen"],
}
FIGURES = ["theme_shift", "theme_shares", "keyness", "entities", "recommendations_by_actor"]


@pytest.fixture(scope="module")
def memos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("memos")
    paths = {"raw": MEMOS, "processed": base / "processed", "reports": base / "reports"}
    assert cli_main(["run", "--jobs", "1"] + [f"--{k}={v}" for k, v in paths.items()]) == 0
    return paths


def table(memos: dict[str, Path], name: str) -> pd.DataFrame:
    return read_table(memos["processed"] / f"{name}.csv")


def test_tables_have_the_documented_columns(memos):
    for name, columns in TABLES.items():
        frame = table(memos, name)
        assert set(columns) <= set(frame.columns), name
    units = table(memos, "units")
    unit_themes = table(memos, "unit_themes")
    known = set(zip(units["doc_id"], units["unit_id"], strict=True))
    assert set(zip(unit_themes["doc_id"], unit_themes["unit_id"], strict=True)) <= known
    kinds = units.set_index(["doc_id", "unit_id"])["kind"]
    assert {kinds[k] for k in zip(unit_themes["doc_id"], unit_themes["unit_id"], strict=True)} <= {
        "sentence",
        "list_item",
    }


def test_theme_count_is_measured_and_nmf_beats_the_alternatives(memos):
    models = table(memos, "theme_models")
    models["stability"] = models["stability"].astype(float)
    chosen = models[models["chosen"] == "True"]
    assert len(chosen) == 1 and set(models["method"]) == {"nmf"}  # the run fits one method
    # the comparison, evaluation work outside the run, on the units and terms the run used
    units = table(memos, "units")
    content = content_units(units, conferences(table(memos, "documents")))
    recs = table(memos, "recommendations")
    ctx = Context(paths=Paths(processed=memos["processed"]), jobs=1)
    wanted = set(term_units(units)) | set(zip(recs["doc_id"], recs["unit_id"], strict=True))
    terms, _ = unit_terms(ctx, units, wanted)  # all from the run's cache
    content_terms = [terms[k].nominal for k in zip(content["doc_id"], content["unit_id"], strict=True)]
    compared = compare_theme_models(content_terms, ThemeSettings.from_settings(ctx.settings["analyze"]))
    best = compared.groupby("method")["stability"].max()
    assert best["nmf"] > best["lda"] and best["nmf"] > best["kmeans"]
    themes = table(memos, "themes")
    assert len(themes) == int(chosen["k"].iloc[0])
    assert themes["label"].str.contains(" ").all()  # key phrases, not single words only


def test_theme_shift_follows_the_memos(memos):
    """2011 discusses the committee's work and the renewal of its mandate; 2013 the dual
    benefit model in six regions and regional coordinators. The theme gaining most share
    must be about regions or the dual benefit, the one losing most about the committee."""
    shares = table(memos, "theme_shares")
    themes = table(memos, "themes").set_index("theme")
    later = shares[shares["year"] == "2013"].copy()
    later["change"] = later["change"].astype(float)
    gain = later.sort_values("change").iloc[-1]
    loss = later.sort_values("change").iloc[0]
    gain_terms = themes.loc[gain["theme"], "top_terms"]
    loss_terms = themes.loc[loss["theme"], "top_terms"]
    assert gain["change"] >= 0.15 and loss["change"] <= -0.15
    assert any(t in gain_terms for t in ("dual benefit", "region", "champion")), gain_terms
    assert any(t in loss_terms for t in ("committee", "mandate", "renewal")), loss_terms


def test_keyness_names_each_conference_s_own_subject(memos):
    key = table(memos, "keyness")
    key["statistic"] = key["statistic"].astype(float)
    top = {
        year: set(group.sort_values("statistic", ascending=False)["term"].head(10))
        for year, group in key[key["significant"] == "True"].groupby("year")
    }
    assert "committee" in top["2011"]
    assert "dual benefit" in top["2013"]  # significant after the correction for terms tested


def gold_pairs(recs: pd.DataFrame) -> set[tuple[str, str, str, str]]:
    def find(prefix: str) -> tuple[str, str]:
        hit = recs[recs["text"].str.startswith(prefix)]
        assert len(hit) == 1, prefix
        return hit["doc_id"].iloc[0], hit["unit_id"].iloc[0]

    return {find(a) + find(b) for a, b in GOLD["recurring_recommendations"]}


def recurrence_score(memos) -> tuple[int, int]:
    pairs = table(memos, "recurring_recommendations")
    gold = gold_pairs(table(memos, "recommendations"))
    found = set(
        zip(pairs["doc_id_a"], pairs["unit_id_a"], pairs["doc_id_b"], pairs["unit_id_b"], strict=True)
    )
    return len(found & gold), len(found - gold)


def test_recurring_recommendations_against_the_gold_pairs(memos):
    found, wrong = recurrence_score(memos)
    assert found >= 3 and wrong <= 2, (found, wrong)
    pairs = table(memos, "recurring_recommendations")
    assert pairs["threshold_source"].str.startswith("fitted on").all()
    assert (pairs["similarity"].astype(float) >= pairs["threshold"].astype(float)).all()
    left = table(memos, "recommendations_not_taken_up")
    assert set(left["year"]) == {"2011"}
    assert not set(zip(left["doc_id"], left["unit_id"], strict=True)) & set(
        zip(pairs["doc_id_a"], pairs["unit_id_a"], strict=True)
    )


def test_recurring_recommendations_reach_the_issue_target(memos):
    """Issue 13: at least 4 of the 5 gold pairs, at most 1 wrong, with the shipped rule
    (docs/recurrence.md; fitted on the dev series alone it also finds 4 with none wrong)."""
    found, wrong = recurrence_score(memos)
    assert found >= 4 and wrong <= 1, (found, wrong)
    # one-to-one: no earlier recommendation is taken up twice by the same conference
    pairs = table(memos, "recurring_recommendations")
    assert not pairs.duplicated(["doc_id_a", "unit_id_a", "doc_id_b"]).any()
    assert not pairs.duplicated(["doc_id_b", "unit_id_b"]).any() or pairs["merged"].any()


def test_every_recommendation_gets_a_theme_in_a_table_of_its_own(memos):
    recs = table(memos, "recommendations")
    assert "theme" not in recs.columns  # extract's table is never rewritten
    themed = table(memos, "recommendation_themes")
    assert list(themed.columns) == ["doc_id", "unit_id", "theme", "theme_label"]
    assert themed[["doc_id", "unit_id"]].equals(recs[["doc_id", "unit_id"]])
    assert (themed["theme"] != "").all()
    labels = table(memos, "themes").set_index("theme")["label"]
    assert (themed["theme_label"] == themed["theme"].map(labels)).all()
    unit_themes = table(memos, "unit_themes").set_index(["doc_id", "unit_id"])["theme"]
    for rec in themed.itertuples():
        assert unit_themes[(rec.doc_id, rec.unit_id)] == rec.theme


def test_reports_are_written(memos):
    figures = memos["reports"] / "figures"
    for name in FIGURES:
        assert (figures / f"{name}.png").read_bytes().startswith(b"\x89PNG")
        assert b"<svg" in (figures / f"{name}.svg").read_bytes()[:2000]
    summary = (memos["reports"] / "summary.md").read_text(encoding="utf-8")
    assert "42nd UN Issues Conference (2011) → 44th UN Issues Conference (2013)" in summary
    assert "index.html#" in summary


def test_unchanged_inputs_are_skipped_and_reruns_are_byte_identical(memos, tmp_path, capsys):
    processed, reports = memos["processed"], memos["reports"]
    outputs = (
        sorted(processed.glob("*.csv")) + sorted(reports.rglob("*.png")) + sorted(reports.rglob("*.svg"))
    )
    outputs += [reports / "index.html", reports / "summary.md"]
    before = {p: p.read_bytes() for p in outputs}
    args = [f"--processed={processed}", f"--reports={reports}", "--jobs", "1"]
    capsys.readouterr()
    assert cli_main(["analyze", *args]) == 0 and cli_main(["report", *args]) == 0
    err = capsys.readouterr().err
    assert "analyze: up to date" in err and "report: up to date" in err
    # forced: everything recomputed, and the same bytes come out
    assert cli_main(["analyze", "--force", *args]) == 0 and cli_main(["report", "--force", *args]) == 0
    assert "up to date" not in capsys.readouterr().err
    changed = [p.name for p in outputs if p.read_bytes() != before[p]]
    assert changed == []
    # a changed input table is noticed
    copy = tmp_path / "processed"
    shutil.copytree(processed, copy)
    recs = read_table(copy / "recommendations.csv")
    recs.iloc[:-1].to_csv(copy / "recommendations.csv", index=False)
    assert cli_main(["analyze", f"--processed={copy}", f"--reports={tmp_path / 'r'}"]) == 0
    assert "analyze: up to date" not in capsys.readouterr().err
    assert len(read_table(copy / "recommendations.csv")) == len(recs) - 1
