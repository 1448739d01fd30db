"""A third conference added to raw/ shows up in every table and every chart, with no code
change. The memo below is fictional, written for this test."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.analyze.corpus import conferences
from pipeline.analyze.entity_counts import entity_mentions
from pipeline.cli import main as cli_main
from pipeline.tableio import read_table
from tests.conftest import MEMOS

ROOT = Path(__file__).resolve().parent.parent
THIRD_MEMO = """\
Policy Memo

DATE: March 3, 2014

SUBJECT: Regional Partners Carry Resolution 1540 Forward at the 45th UN Issues Conference

Introduction

This policy memo summarises discussions among officials from governments, regional
organizations and research institutes at the 45th annual UN Issues Conference, "Resolution
1540 in the Regions," held in Tarrytown, New York, February 20–22, 2014.

Participants reviewed how regional organizations in West Africa, the Pacific Islands and
Central Asia have taken up the dual benefit approach since the previous meeting.

Regional Delivery

The regional coordinators appointed in the Caribbean and in Central America have become the
main channel between capitals and the 1540 Committee. Participants noted that Pacific Island
states face small administrations and long distances, which make shared regional services
attractive. Several speakers described export control training delivered jointly with
industry associations.

Recommendations

Participants proposed the following steps:

- Regional organizations should host a permanent 1540 regional coordinator in every region that lacks one.
- Donors should pool assistance for small island states through regional funds rather than bilateral projects.
- The 1540 Committee should invite industry associations to regional workshops on export control compliance.
- Civil society and universities should help map where development aid and nonproliferation goals overlap.
- Member States should report on national implementation through their regional organization.
"""


def conferences_in(frame: pd.DataFrame, column: str = "year") -> set[str]:
    return set(frame[column].astype(str))


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("three")
    raw = base / "raw"
    shutil.copytree(MEMOS, raw)
    (raw / "2014-03-03_policy-memo_45th-un-issues-conference.txt").write_text(THIRD_MEMO, encoding="utf-8")
    paths = {"raw": raw, "processed": base / "processed", "reports": base / "reports"}
    code = cli_main(["run", "--jobs", "1"] + [f"--{name}={path}" for name, path in paths.items()])
    assert code == 0
    return paths


def test_every_table_includes_the_third_conference(three):
    processed = three["processed"]
    documents = read_table(processed / "documents.csv")
    assert len(documents) == 3 and set(documents["status"]) == {"ok"}
    third = documents[documents["year"] == "2014"]
    assert len(third) == 1
    doc_id = third["doc_id"].iloc[0]

    shares = read_table(processed / "theme_shares.csv")
    themes = read_table(processed / "themes.csv")
    assert conferences_in(shares) == {"2011", "2013", "2014"}
    assert len(shares[shares["year"] == "2014"]) == len(themes)  # every theme, in long format
    assert list(shares.drop_duplicates("conference_order")["year"]) == ["2011", "2013", "2014"]
    assert (shares[shares["year"] == "2014"]["change"] != "").all()

    assert "2014" in conferences_in(read_table(processed / "unit_themes.csv"))
    keyness = read_table(processed / "keyness.csv")
    assert "2014" in conferences_in(keyness)
    third = keyness[keyness["year"] == "2014"]
    # its most distinctive term is about the memo's subject; eleven units are too few for
    # any term to stay significant once corrected for the number of terms tested
    assert third.iloc[0]["term"].startswith("region") and (third["significant"] == "False").all()
    counts = read_table(processed / "entity_counts.csv")
    assert "2014" in conferences_in(counts)
    assert {"REGION", "ORG"} <= set(counts[counts["year"] == "2014"]["label"])

    recs = read_table(processed / "recommendation_themes.csv")
    mine = recs[recs["doc_id"] == doc_id]
    assert len(mine) >= 4 and (mine["theme"] != "").all()
    pairs = read_table(processed / "recurring_recommendations.csv")
    assert "2014" in conferences_in(pairs, "year_b")  # the 2014 memo takes up earlier advice
    assert (pairs["year_a"].astype(int) < pairs["year_b"].astype(int)).all()
    left = read_table(processed / "recommendations_not_taken_up.csv")
    assert "2014" not in conferences_in(left)  # nothing later could take the last one up
    assert {"2011", "2013"} & conferences_in(left)


def test_every_chart_and_page_includes_the_third_conference(three):
    figures = three["reports"] / "figures"
    names = ["theme_shift", "theme_shares", "keyness", "entities", "recommendations_by_actor"]
    for name in names:
        assert (figures / f"{name}.png").stat().st_size > 10_000
        svg = (figures / f"{name}.svg").read_text(encoding="utf-8")
        # matplotlib writes each text's string as a comment next to its glyphs
        texts = " ".join(re.findall(r"<!-- (.*?) -->", svg))
        assert "(2014)" in texts, name
        assert "(2011)" in texts and "(2013)" in texts, name
    page = (three["reports"] / "index.html").read_text(encoding="utf-8")
    assert page.count("(2014)") >= 3
    summary = (three["reports"] / "summary.md").read_text(encoding="utf-8")
    assert "(2013) → " in summary and "(2014)" in summary


def unit_lists(page: str) -> dict[str, set[str]]:
    """Each list of units the page opens from a number: its id -> the unit anchors it links."""
    lists = re.findall(r'<div class=units id="([^"]+)">(.*?)</div>', page)
    return {list_id: set(re.findall(r'href="#([^"]+)"', body)) for list_id, body in lists}


def test_every_number_opens_its_units_and_every_unit_is_in_the_page(three):
    """Share cells, entity counts and actor counts each open the list of their units; every
    themed unit, every counted entity mention and every recommendation is reachable that way."""
    processed = three["processed"]
    page = (three["reports"] / "index.html").read_text(encoding="utf-8")
    lists = unit_lists(page)
    ids = set(re.findall(r' id="([^"]+)"', page))
    opened = set(re.findall(r'href="#(units-[^"]+)"', page))
    assert opened == set(lists)  # every list is opened by a number, and every number has one
    linked = set().union(*lists.values())
    assert linked <= ids  # each unit of a list sits in its document

    def anchors(frame: pd.DataFrame) -> set[str]:
        return {f"{d}-u{u}" for d, u in zip(frame["doc_id"], frame["unit_id"], strict=True)}

    themed = read_table(processed / "unit_themes.csv").query("theme != ''")
    theme_links = set().union(*(v for k, v in lists.items() if k.startswith("units-theme-")))
    assert anchors(themed) == theme_links
    # every counted mention: boilerplate (letterheads, addresses) and programmes are not counted
    confs = conferences(read_table(processed / "documents.csv"))
    mentions = entity_mentions(read_table(processed / "entities.csv"), confs)
    entity_links = set().union(*(v for k, v in lists.items() if k.startswith("units-entity-")))
    assert anchors(mentions) == entity_links
    recs = read_table(processed / "recommendations.csv")
    actor_links = set().union(*(v for k, v in lists.items() if k.startswith("units-actor-")))
    assert anchors(recs) == actor_links
    # a cell's number is the length of its list
    shares = read_table(processed / "theme_shares.csv")
    for row in shares.itertuples(index=False):
        assert len(lists.get(f"units-theme-{row.theme}-c{row.conference_order}", ())) == int(row.n_units)
