"""Hostile memo text: escaped in the HTML report, unchanged in meaning in the tables;
and the pipeline never writes outside its output folders."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from pipeline.tableio import read_table
from tests.conftest import copy_memos, run_cli

HOSTILE_NAME = "evil <b>name<b> & 'quote'.md"
HOSTILE_MEMO = """# Briefing Note on <script>alert("title")</script> Controls

DATE: 3 March 2015

This note covers the 45th annual UN Issues Conference, held in Tarrytown, New York.

Participants said <script>alert('pwned')</script> must never run. States should adopt
<img src=x onerror=alert(1)> export controls and the Committee should publish its lists.

Recommendations

- Donors should fund [regional workshops](javascript:alert(1)) in Central America;
- The OAS must publish "quotes" & <b>bold</b> claims about <iframe src=//evil></iframe> sites.
"""


def tree_state(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("hostile")
    raw = copy_memos(base / "raw")
    (raw / HOSTILE_NAME).write_text(HOSTILE_MEMO, encoding="utf-8")
    before = tree_state(base)
    folders = {"raw": raw, "processed": base / "out" / "processed", "reports": base / "out" / "reports"}
    assert run_cli("run", *[a for k, v in folders.items() for a in (f"--{k}", v)]) == 0
    after = tree_state(base)
    written = {p for p in after if p not in before or after[p] != before[p]}
    folders["written_outside"] = sorted(p for p in written if not p.startswith("out"))  # type: ignore[assignment]
    return folders


def test_nothing_is_written_outside_the_output_folders(hostile_run: dict) -> None:
    assert hostile_run["written_outside"] == []


def test_tables_keep_the_hostile_text_as_text(hostile_run: dict) -> None:
    units = read_table(hostile_run["processed"] / "units.csv")
    documents = read_table(hostile_run["processed"] / "documents.csv")
    doc = documents[documents["source"] == HOSTILE_NAME].iloc[0]
    assert doc["status"] == "ok" and doc["year"] == "2015"
    text = " ".join(units[units["doc_id"] == doc["doc_id"]]["text"])
    assert "Participants said <script>alert('pwned')</script> must never run." in text
    assert "<img src=x onerror=alert(1)>" in text
    assert "fund regional workshops in Central America;" in text  # link text kept, target dropped
    assert '"quotes" & bold claims' in text
    recommendations = read_table(hostile_run["processed"] / "recommendations.csv")
    hostile_recs = recommendations[recommendations["doc_id"] == doc["doc_id"]]
    assert len(hostile_recs) >= 3


def test_html_report_shows_hostile_text_only_escaped(hostile_run: dict, tmp_path: Path) -> None:
    page = (hostile_run["reports"] / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(" in page
    for raw_markup in ["<script>alert", "<img src=x", "<iframe", "javascript:", "<b>name<b>"]:
        assert raw_markup not in page, raw_markup
    # The page's own scripts are the same as in a report of the clean memos.
    clean = tmp_path / "clean"
    assert (
        run_cli(
            "run", "--raw", copy_memos(clean / "raw"), "--processed", clean / "p", "--reports", clean / "r"
        )
        == 0
    )
    clean_page = (clean / "r" / "index.html").read_text(encoding="utf-8")
    assert len(re.findall(r"<script\b", page)) == len(re.findall(r"<script\b", clean_page))
    handlers = re.compile(r"<[a-zA-Z][^>]*\son\w+\s*=")  # an on...= attribute inside a real tag
    assert len(handlers.findall(page)) == len(handlers.findall(clean_page))


def test_markdown_summary_does_not_pass_raw_html_through(hostile_run: dict) -> None:
    summary = (hostile_run["reports"] / "summary.md").read_text(encoding="utf-8")
    for raw_markup in ["<script>", "<img src=x", "<iframe", "](javascript:"]:
        # unescaped: md_escape writes "\<img", which Markdown shows as text
        assert re.search(r"(?<!\\)" + re.escape(raw_markup), summary) is None, raw_markup


def test_markdown_escaping_neutralises_markup() -> None:
    from pipeline.report.markdown import md_escape

    hostile = "<script>alert(1)</script> [x](javascript:alert(1)) **bold** `code` | cell"
    escaped = md_escape(hostile)
    assert re.search(r"(?<!\\)[<>\[\]*`|]", escaped) is None  # every markup character is escaped
    assert re.sub(r"\\(.)", r"\1", escaped) == hostile  # and nothing else changed
