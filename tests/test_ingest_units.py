"""Units and metadata of the two real memos equal their hand-countable structure."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.ingest.layout import Unit
from pipeline.ingest.metadata import text_metadata
from pipeline.ingest.text import read_text_file, text_to_lines
from pipeline.ingest.units import build_units, split_sentences


def units_of(path: Path) -> list[Unit]:
    return build_units(read_text_file(path).lines)


def bullets_in_source(text: str, after: str) -> list[str]:
    """Bullet lines ("- ..." / " - ...") of the source below a heading, counted by hand-rule."""
    tail = text.split(after, 1)[1]
    return [line for line in tail.splitlines() if re.match(r"^\s*- \S", line)]


def section_units(units: list[Unit], heading_word: str) -> list[Unit]:
    return [u for u in units if heading_word.lower() in u.section.lower()]


def test_2011_every_recommendation_bullet_is_its_own_list_item(memo_2011: Path) -> None:
    units = units_of(memo_2011)
    text = memo_2011.read_text(encoding="utf-8")
    bullets = bullets_in_source(text, "Recommendations for Renewal and Continued Progress")
    items = [
        u for u in section_units(units, "Recommendations for Renewal") if u.kind == "list_item"
    ]
    assert len({u.block for u in items}) == len(bullets) == 14
    # each bullet's first sentence starts its block, in order
    firsts = [next(u for u in items if u.block == b) for b in sorted({u.block for u in items})]
    for unit, bullet in zip(firsts, bullets, strict=True):
        assert bullet.strip()[2:].startswith(unit.text[:40])
    nested = [u for u in items if u.level == 1]
    assert {u.text.split()[0] for u in nested} == {"Meaningful", "One", "Each"}


def test_2013_every_ways_forward_bullet_is_its_own_list_item(memo_2013: Path) -> None:
    units = units_of(memo_2013)
    lead = next(u for u in units if "ways forward" in u.text)
    assert lead.kind == "sentence"
    items = [u for u in units if u.kind == "list_item" and u.unit_id > lead.unit_id]
    assert len(items) == 10
    assert all(u.text.endswith((";", ".")) for u in items)
    assert items[0].text.startswith("options for changing the perception")
    assert items[-1].text.startswith("encouragement of civil society efforts")


@pytest.mark.parametrize("which", ["memo_2011", "memo_2013"])
def test_no_heading_text_inside_any_sentence(which: str, request: pytest.FixtureRequest) -> None:
    units = units_of(request.getfixturevalue(which))
    headings = [u.text for u in units if u.kind == "heading" and len(u.text.split()) >= 2]
    assert len(headings) >= 4
    for unit in units:
        if unit.kind in {"sentence", "list_item"}:
            for heading in headings:
                assert not unit.text.startswith(heading + " "), (heading, unit.text)


def test_2011_headings_and_boilerplate(memo_2011: Path) -> None:
    units = units_of(memo_2011)
    headings = [u.text for u in units if u.kind == "heading"]
    for expected in [
        "Introduction",
        "Evolution of UNSCR 1540",
        "The Committee's Work",
        "Regional/Subregional Implementation Seen as Effective",
        "Legitimacy and Coordination Challenges Remain",
        "Recommendations for Renewal and Continued Progress",
    ]:
        assert expected in headings
    kinds = {u.text: u.kind for u in units}
    assert kinds["563-264-1500"] == "boilerplate"
    assert kinds["Participants neither reviewed nor approved this document."] == "boilerplate"
    profile = [u for u in units if u.section.startswith("About")]
    assert profile and all(u.kind in {"heading", "boilerplate"} for u in profile)


def test_2013_footnote_marker_kept_apart_and_footnote_is_boilerplate(memo_2013: Path) -> None:
    units = units_of(memo_2013)
    assert units[0].text == "Information Note¹" and units[0].kind == "heading"
    footnote = [u for u in units if u.text.startswith("¹")]
    assert footnote and all(u.kind == "boilerplate" for u in footnote)
    assert not any("**" in u.text or "<http" in u.text for u in units)


def test_metadata_of_the_two_memos(memo_2011: Path, memo_2013: Path) -> None:
    meta_2011 = text_metadata(units_of(memo_2011))
    assert meta_2011["year"] == "2011"
    assert meta_2011["doc_type"] == "Policy Memo"
    assert meta_2011["conference"] == "42nd UN Issues Conference"
    assert meta_2011["edition"] == "42" and meta_2011["series"] == "UN Issues Conference"
    assert meta_2011["date"] == "2011-03-01"
    assert meta_2011["venue"] == "Tarrytown, New York"
    meta_2013 = text_metadata(units_of(memo_2013))
    assert meta_2013["year"] == "2013"
    assert meta_2013["doc_type"] == "Information Note"
    # "Conference on <theme>: <subtitle>" names the edition's theme, not the series
    assert meta_2013["conference"] == "44th UN Issues Conference"
    assert meta_2013["edition"] == "44" and meta_2013["series"] == meta_2011["series"]
    assert "Tarrytown" in meta_2013["venue"]


def test_metadata_agrees_with_gold(gold: dict, memos: list[Path]) -> None:
    for path in memos:
        expected = gold["docs"][path.name]
        found = text_metadata(units_of(path))
        assert found["year"] == str(expected["year"])
        assert found["doc_type"] == expected["doc_type"]
        assert found["title"] == expected["title"]
        assert found["date"] == (expected["date"] or "")


def test_sentence_splitter_respects_abbreviations_and_initials() -> None:
    abbreviations = frozenset({"dr", "e.g", "no"})
    text = "Dr. Smith met Richard H. Stanley. See e.g. the review. It passed. No. 5 failed."
    assert split_sentences(text, abbreviations) == [
        "Dr. Smith met Richard H. Stanley.",
        "See e.g. the review.",
        "It passed.",
        "No. 5 failed.",
    ]


def test_markdown_and_plain_layout_give_the_same_units() -> None:
    markdown = (
        "# Main Findings\n\nStates **should** act now. Donors could help.\n\n"
        "* first item\n* second item;\n"
    )
    plain = (
        "Main Findings\n\nStates should act now. Donors could help.\n\n"
        "- first item\n- second item;\n"
    )
    as_md = [(u.kind, u.text) for u in build_units(text_to_lines(markdown))]
    as_txt = [(u.kind, u.text) for u in build_units(text_to_lines(plain))]
    assert (
        as_md
        == as_txt
        == [
            ("heading", "Main Findings"),
            ("sentence", "States should act now."),
            ("sentence", "Donors could help."),
            ("list_item", "first item"),
            ("list_item", "second item;"),
        ]
    )


def test_hard_wrapped_text_with_hyphenation_and_glued_heading() -> None:
    text = (
        "Introduction\n"
        "The conference on weapons of mass destruc-\n"
        "tion brought South-\n"
        "South partners and inter-\n"
        "ministerial teams together. A second sentence\n"
        "follows here.\n"
        "\n"
        "1. First numbered item that wraps onto\n"
        "   a second line;\n"
        "2. Second item.\n"
    )
    units = build_units(text_to_lines(text))
    assert [(u.kind, u.text) for u in units] == [
        ("heading", "Introduction"),
        (
            "sentence",
            "The conference on weapons of mass destruction brought South-South partners "
            "and inter-ministerial teams together.",
        ),
        ("sentence", "A second sentence follows here."),
        ("list_item", "First numbered item that wraps onto a second line;"),
        ("list_item", "Second item."),
    ]


def test_soft_hyphen_and_ligatures_are_cleaned() -> None:
    units = build_units(
        text_to_lines("The e\ufb03cient coordina\u00ad\ntion of e\u00a0orts works.")
    )
    assert units[0].text == "The efficient coordination of e orts works."


# Layouts written for these tests (not the seed or dev wording): caps title block with a word
# ordinal, a dateline after a cited older year, a memo header, a "held in" sentence, and a
# session ordinal that is not a conference series.
LAYOUTS = {
    "caps title block": (
        "THIRTY-SECOND ANNUAL CARIBBEAN FORUM ON BORDER SECURITY\nKingston, Jamaica, 4-6 June 2012\n\n"
        "Summary Report\n\nThe forum was hosted by the Ministry of National Security of Jamaica. "
        "Delegates from fourteen States attended.\n",
        {"year": "2012", "date": "", "edition": "32", "series": "Caribbean Forum on Border Security",
         "venue": "Kingston, Jamaica", "doc_type": "Summary Report",
         "organizer": "Ministry of National Security of Jamaica"},
    ),
    "dateline": (
        "Regional approaches to nonproliferation\n\nVIENNA, 14 May 2014 — When the Security Council "
        "adopted resolution 1540 on 28 April 2004, few expected it to last.\n\nOfficials met this week.\n",
        {"year": "2014", "date": "2014-05-14", "venue": "Vienna", "conference": "",
         "title": "Regional approaches to nonproliferation", "doc_type": "News Article"},
    ),
    "memo header": (
        "MEMORANDUM\n\nTo: Members of the Steering Group\nFrom: Secretariat\nDate: 3 September 2019\n"
        "Re: Outcome of the 7th Regional Workshop on Export Controls for Central Asia\n\n"
        "The workshop was held in Almaty on 20-22 August 2019.\n",
        {"year": "2019", "date": "2019-09-03", "edition": "7", "venue": "Almaty",
         "title": "Outcome of the 7th Regional Workshop on Export Controls for Central Asia"},
    ),
    "held sentence": (
        "Report of the meeting\n\nThe Fourth International Seminar on Biosecurity Governance was held in "
        "Nairobi, Kenya, on 5 and 6 October 2016. It was organised by the African Union Commission, "
        "with support from Canada.\n",
        {"year": "2016", "edition": "4", "series": "International Seminar on Biosecurity Governance",
         "venue": "Nairobi, Kenya", "organizer": "African Union Commission", "doc_type": "Meeting Report"},
    ),
    "noise above the title": (
        "~~ ,.,, ;;; Tlie ~ ll\n\nState | Report | Year\n\nStrengthening Border Controls in the Sahel\n\n"
        "Officials met in Niamey. They agreed on a plan.\n",
        {"title": "Strengthening Border Controls in the Sahel", "year": "", "conference": ""},
    ),
    "session ordinal": (
        "Statement to the sixty-ninth session of the General Assembly\n\nNew York, 20 October 2014\n\n"
        "Mr. President, my delegation supports the resolution.\n",
        {"year": "2014", "date": "2014-10-20", "conference": "", "series": "", "edition": ""},
    ),
    "statement by a minister": (
        "Statement by the Minister for Foreign Affairs of Ruritania\n\nGeneva, 2 March 2015\n\n"
        "Summary of the plenary debate\n\nMy country supports the resolution.\n",
        {"year": "2015", "doc_type": "Government Statement"},
    ),
    "kicker and a covered debate": (
        "OPINION\n\nSummary of the plenary debate\n\nWhy export controls matter\n\nBy A. Writer\n\n"
        "States should act.\n",
        {"doc_type": "Op-ed"},
    ),
    "covered debate": (
        "Summary of the plenary debate\n\nHeld in Lima on 3 May 2017\n\nStates should act.\n",
        {"doc_type": "Plenary Summary"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("layout", LAYOUTS)
def test_metadata_on_layouts_written_for_the_tests(layout: str) -> None:
    text, expected = LAYOUTS[layout]
    found = text_metadata(build_units(text_to_lines(text)))
    assert {key: found[key] for key in expected} == expected
    sources = dict(part.split("=") for part in found["meta_source"].split("; "))
    assert set(sources) == {key for key, value in found.items() if value and key != "meta_source"}


def test_words_broken_by_a_unicode_hyphen_are_joined_when_the_whole_is_a_word() -> None:
    lines = [
        "Full implemen\u2010",
        "tation by every organi \u2010",  # a wide glyph gap before the hyphen
        "zation needs Inter\u2010",
        "American support and a cross\u2010",
        "border plan.",
    ]
    units = build_units(text_to_lines("\n".join(lines)))
    assert [u.text for u in units] == [
        "Full implementation by every organization needs Inter-American support and a cross-border plan."
    ]


def test_transcript_turns_lose_their_label_to_the_speaker_column() -> None:
    text = (
        "Date: 3 March 2021\n\n"
        "Background: the workshop met twice.\n\n"
        "Moderator: Welcome to the panel. What comes first?\n\n"
        "Okafor: Licensing offices need staff. Fund them for five years.\n\n"
        "Lindqvist: Share the lists.\n\n"
        "Okafor: Then train the customs officers.\n\n"
        "Q (a journalist): Who pays for it?\n"
    )
    units = [(u.speaker, u.text) for u in build_units(text_to_lines(text)) if u.kind == "sentence"]
    assert units == [
        ("", "Background: the workshop met twice."),
        ("Moderator", "Welcome to the panel."),
        ("Moderator", "What comes first?"),
        ("Okafor", "Licensing offices need staff."),
        ("Okafor", "Fund them for five years."),
        ("Lindqvist", "Share the lists."),
        ("Okafor", "Then train the customs officers."),
        ("Q (a journalist)", "Who pays for it?"),
    ]


def test_a_lone_label_or_a_label_before_no_sentence_stays_in_the_text() -> None:
    text = (
        "Export Controls in Practice\n\nChair: Ambassador Lee\n\n"
        "Garcia: the ministry drafted a law.\n\nIt passed in May.\n"
    )
    units = build_units(text_to_lines(text))
    assert [u.text for u in units[1:3]] == ["Chair: Ambassador Lee", "Garcia: the ministry drafted a law."]
    assert not any(u.speaker for u in units)


def test_inline_enumerations_become_list_items_with_their_marker() -> None:
    text = (
        "The meeting proposed three steps: i. set up a registry of brokers; ii. train the "
        "licensing officers; and iii. review the control list every year. Then it closed.\n\n"
        "The group proposed (a) a regional registry of brokers, (b) a hotline for industry.\n\n"
        "This follows operative paragraphs 2 (a) and (b) of resolution 1540 (2004).\n\n"
        "States should (a) review their laws.\n\n"
        "(a) establish a registry; (b) train the officers; (c) audit the banks.\n"
    )
    units = [(u.kind, u.marker, u.level, u.text) for u in build_units(text_to_lines(text))]
    assert units == [
        ("sentence", "", 0, "The meeting proposed three steps:"),
        ("list_item", "i.", 0, "set up a registry of brokers;"),
        ("list_item", "ii.", 0, "train the licensing officers;"),
        ("list_item", "iii.", 0, "review the control list every year."),
        ("sentence", "", 0, "Then it closed."),
        ("sentence", "", 0, "The group proposed"),
        ("list_item", "(a)", 0, "a regional registry of brokers,"),
        ("list_item", "(b)", 0, "a hotline for industry."),
        ("sentence", "", 0, "This follows operative paragraphs 2 (a) and (b) of resolution 1540 (2004)."),
        ("sentence", "", 0, "States should (a) review their laws."),
        ("list_item", "(a)", 0, "establish a registry;"),
        ("list_item", "(b)", 0, "train the officers;"),
        ("list_item", "(c)", 0, "audit the banks."),
    ]


def test_roman_numbered_lines_are_list_items() -> None:
    text = "Proposals made:\n   i. a common reporting template;\n   ii. legal drafting support;\n"
    units = [(u.kind, u.marker) for u in build_units(text_to_lines(text))]
    assert units[-2:] == [("list_item", "i."), ("list_item", "ii.")]
