"""The HTML page and the Markdown summary: memo text is escaped, the page is
self-contained, every link lands, and a missing extraction gives notes, not errors."""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main as cli_main
from pipeline.report import html as html_page
from pipeline.tableio import read_table

HOSTILE = (
    'Regional coordinators <script>alert("x")</script> help regional organizations with the '
    'dual benefit model, [click](http://evil.example) & "share" regional champions.'
)


def corpus_units() -> pd.DataFrame:
    """Two small conferences: the first about the committee's mandate, the second about
    regional coordinators; one unit carries markup that must never reach the page raw."""
    rows = []
    first = [
        "The committee mandate should be renewed for ten years.",
        "The committee needs a longer mandate and a review.",
        "Renewal of the committee mandate was discussed at length.",
        "The mandate renewal must keep the committee programme of work.",
        "A committee coordinator could support the mandate.",
        "The working groups of the committee helped its mandate.",
    ]
    second = [
        HOSTILE,
        "Regional coordinators help regional organizations with the dual benefit model.",
        "The dual benefit model links development and regional security.",
        "Regional organizations could host regional coordinators.",
        "Regional champions should promote the dual benefit model.",
        "Industry engagement in the regions should grow.",
    ]
    for doc_id, texts in (("memo-2011", first * 2), ("memo-2013", second * 2)):
        rows.append(
            {
                "doc_id": doc_id,
                "unit_id": "1",
                "kind": "heading",
                "text": "Heading",
                "section": "",
                "block": "1",
            }
        )
        for i, text in enumerate(texts, start=2):
            rows.append(
                {
                    "doc_id": doc_id,
                    "unit_id": str(i),
                    "kind": "sentence",
                    "text": text,
                    "section": "Body",
                    "block": str(i),
                }
            )
    return pd.DataFrame(rows)


def write_inputs(processed: Path) -> None:
    processed.mkdir(parents=True)
    documents = pd.DataFrame(
        [
            {"doc_id": "memo-2011", "source": "memo-2011.txt", "status": "ok", "title": "First <b>memo</b>",
             "conference": "Alpha Conference", "year": "2011"},
            {"doc_id": "memo-2013", "source": "memo-2013.txt", "status": "ok", "title": "Second memo",
             "conference": "Beta Conference", "year": "2013"},
        ]
    )  # fmt: skip
    documents.to_csv(processed / "documents.csv", index=False)
    corpus_units().to_csv(processed / "units.csv", index=False)


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and "href" in attrs:
            self.hrefs.append(attrs["href"])
        if "src" in attrs:
            self.srcs.append(attrs["src"])
        if tag == "link":
            self.hrefs.append(attrs.get("href", ""))

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("site")
    write_inputs(base / "processed")
    config = base / "pipeline.toml"
    config.write_text("[analyze]\nn_themes = 2\n", encoding="utf-8")
    args = ["--config", str(config), f"--processed={base / 'processed'}", f"--reports={base / 'reports'}"]
    assert cli_main(["analyze", *args]) == 0  # no extract: no entities, no recommendations
    assert cli_main(["report", *args]) == 0
    return {"processed": base / "processed", "reports": base / "reports"}


def test_memo_text_is_escaped_and_the_page_is_self_contained(site):
    page = (site["reports"] / "index.html").read_text(encoding="utf-8")
    parsed = Collector()
    parsed.feed(page)
    assert parsed.tags.count("script") == 1  # the page's own; the memo's <script> stayed text
    assert page.count("<script>") == 1 and html_page.SCRIPT in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert HOSTILE in "".join(parsed.text)  # and reads as the memo wrote it
    assert "First &lt;b&gt;memo&lt;/b&gt;" in page
    assert all(src.startswith("data:image/png;base64,") for src in parsed.srcs) and len(parsed.srcs) == 5
    assert all(href.startswith(("#", "data:")) for href in parsed.hrefs)


def test_every_link_resolves_inside_the_page(site):
    parsed = Collector()
    parsed.feed((site["reports"] / "index.html").read_text(encoding="utf-8"))
    targets = [h[1:] for h in parsed.hrefs if h.startswith("#")]
    unit_links = [t for t in targets if t.startswith("memo-")]
    assert unit_links and set(targets) <= parsed.ids
    assert "memo-2013-u2" in parsed.ids  # the hostile unit is in its document
    assert "units-theme-1-c0" in parsed.ids and "#units-theme-1-c0" in parsed.hrefs  # a share cell's units


def test_missing_extraction_gives_notes_not_errors(site):
    page = (site["reports"] / "index.html").read_text(encoding="utf-8")
    assert "run the extract stage" in page
    summary = (site["reports"] / "summary.md").read_text(encoding="utf-8")
    assert "No recommendations table" in summary and "No entities table" in summary
    assert read_table(site["processed"] / "entity_counts.csv").empty
    assert not (site["processed"] / "recommendations.csv").exists()  # not invented


def test_summary_escapes_markdown_and_links_into_the_page(site):
    summary = (site["reports"] / "summary.md").read_text(encoding="utf-8")
    assert "Alpha Conference (2011) → Beta Conference (2013)" in summary
    assert "](http://evil" not in summary
    assert "(index.html#memo-" in summary
    shares = read_table(site["processed"] / "theme_shares.csv")
    gained = shares[shares["year"] == "2013"].sort_values("change").iloc[-1]
    assert f"**{gained['label']}** gained" in summary


def test_the_report_is_the_same_made_by_one_process_or_two(site, tmp_path):
    """Charts and pages are made in worker processes; where they are made changes nothing."""
    config = tmp_path / "pipeline.toml"
    config.write_text("[analyze]\nn_themes = 2\n", encoding="utf-8")
    for jobs in ("1", "2"):
        reports = tmp_path / f"reports-{jobs}"
        args = ["report", "--config", str(config), f"--processed={site['processed']}", f"--reports={reports}"]
        assert cli_main([*args, "--force", "--jobs", jobs]) == 0
    one, two = tmp_path / "reports-1", tmp_path / "reports-2"
    names = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file())
    for name in names:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    assert (one / "index.html").read_bytes() == (site["reports"] / "index.html").read_bytes()


def test_memo_text_cannot_pose_as_a_chart_waiting_to_be_embedded():
    """The page is rendered before the charts are drawn, with a placeholder where each goes;
    escaped memo text can never contain one."""
    placeholder = html_page._pending("keyness")
    assert placeholder not in escape(placeholder)
    page = f'<p>{escape(placeholder)}</p><img src="{placeholder}" alt="">'
    embedded = html_page.embed(page, {"keyness": b"\x89PNG"})
    assert embedded.count("data:image/png;base64,") == 1 and escape(placeholder) in embedded


def test_undated_documents_run_stamp_and_refit_notes_are_shown(site, tmp_path):
    """Read defensively from what analyze may write: shown when present, escaped."""
    import json
    import shutil

    from pipeline.report.data import load

    processed = tmp_path / "processed"
    shutil.copytree(site["processed"], processed)
    docs = read_table(processed / "documents.csv")
    undated = {"doc_id": "memo-x", "source": "x.txt", "status": "ok", "title": "Undated <i>note</i>"}
    pd.concat([docs, pd.DataFrame([undated])]).to_csv(processed / "documents.csv", index=False)
    analysis = json.loads((processed / "analysis.json").read_text(encoding="utf-8"))
    analysis["run_stamp"] = {"date": "2026-11-30", "documents": 3}
    analysis["refit"] = {"reason": "new k", "moved": [{"theme": "2", "before": 0.31, "after": 0.12}]}
    (processed / "analysis.json").write_text(json.dumps(analysis), encoding="utf-8")
    page = html_page.render(load(processed), None)
    assert "1 undated document" in page and "Undated &lt;i&gt;note&lt;/i&gt;" in page
    assert "date: 2026-11-30" in page
    assert "re-fitted" in page and "reason: new k" in page and "<td>0.31</td>" in page
    assert "re-fitted" not in html_page.render(load(site["processed"]), None)
