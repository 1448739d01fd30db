"""Word and web-page memos read like the .txt memos they are made from; metadata errors,
undated memos and corrupt files are named and the run goes on."""

from __future__ import annotations

from difflib import SequenceMatcher
from html import escape
from itertools import groupby
from pathlib import Path

import pytest

from pipeline.analyze.corpus import conferences
from pipeline.ingest.layout import IngestError, Unit
from pipeline.ingest.text import read_text_file
from pipeline.ingest.units import build_units
from pipeline.ingest.web import read_html
from pipeline.ingest.word import read_docx
from pipeline.tableio import read_table
from tests.conftest import copy_memos, memo_paths, run_cli

NAV = (
    '<header><nav><ul><li><a href="/">Home</a></li><li><a href="/about">About the institute</a></li>'
    '<li><a href="/pubs">Publications archive</a></li></ul></nav></header>'
    '<div class="cookie-banner"><p>This site uses cookies to improve your browsing experience. '
    '<a href="#">Accept all cookies</a></p></div>'
)
FOOTER = (
    '<div class="share">Share this page: <a href="#">Twitter</a> <a href="#">Facebook</a></div>'
    "<footer><p>Copyright 2024 Example Institute, all rights reserved.</p>"
    '<ul><li><a href="/privacy">Privacy policy</a></li>'
    '<li><a href="/contact">Contact us</a></li></ul></footer>'
)


def txt_units(memo: Path) -> list[Unit]:
    return build_units(read_text_file(memo).lines)


def _blocks(units: list[Unit]) -> list[list[Unit]]:
    return [list(group) for _, group in groupby(units, key=lambda u: u.block)]


def write_docx(units: list[Unit], path: Path) -> None:
    """The memo as an author would write it in Word: heading styles, list styles with their
    level, plain paragraphs, the letterhead as lines of one paragraph."""
    import docx

    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "Running header text of every page"
    document.sections[0].footer.paragraphs[0].text = "Running footer text of every page"
    for block in _blocks(units):
        first, text = block[0], " ".join(u.text for u in block)
        if first.kind == "heading":
            document.add_paragraph(text, style="Heading 2")
        elif first.kind == "list_item":
            style = "List Bullet" if first.level == 0 else f"List Bullet {first.level + 1}"
            document.add_paragraph(text, style=style)
        elif first.kind == "boilerplate":
            paragraph = document.add_paragraph()
            for number, unit in enumerate(block):
                run = paragraph.add_run(unit.text)
                if number < len(block) - 1:
                    run.add_break()
        else:
            document.add_paragraph(text)
    document.save(path)


def write_html(units: list[Unit], path: Path, charset: str = "utf-8") -> None:
    """The memo as a web page: <h2>, nested <ul>, <p>, with navigation, a cookie banner,
    share links and a footer around it."""
    out = [f'<!doctype html><html><head><meta charset="{charset}"><title>Memo | Example Institute</title>']
    out.append(f"</head><body>{NAV}<main><article>")
    depth = -1
    for block in _blocks(units):
        first, text = block[0], escape(" ".join(u.text for u in block))
        if first.kind != "list_item":
            out.append("</li></ul>" * (depth + 1))
            depth = -1
        if first.kind == "heading":
            out.append(f"<h2>{text}</h2>")
        elif first.kind == "list_item":
            if first.level > depth:
                out.append("<ul><li>" * (first.level - depth))
            else:
                out.append("</li></ul>" * (depth - first.level) + "</li><li>")
            depth = first.level
            out.append(text)
        elif first.kind == "boilerplate":
            out.append("<p>" + "<br>".join(escape(u.text) for u in block) + "</p>")
        else:
            out.append(f"<p>{text}</p>")
    out.append("</li></ul>" * (depth + 1) + f"</article></main>{FOOTER}</body></html>")
    path.write_bytes("".join(out).encode(charset, errors="xmlcharrefreplace"))


def same_in_order(expected: list[str], found: list[str]) -> float:
    matcher = SequenceMatcher(a=expected, b=found, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(expected)


@pytest.mark.parametrize("memo", memo_paths(), ids=lambda p: p.name[:4])
@pytest.mark.parametrize("fmt", ["docx", "html"])
def test_word_and_web_memos_give_the_text_memos_units(memo: Path, fmt: str, tmp_path: Path) -> None:
    expected = txt_units(memo)
    path = tmp_path / f"memo.{fmt}"
    (write_docx if fmt == "docx" else write_html)(expected, path)
    found = build_units((read_docx if fmt == "docx" else read_html)(path).lines)
    assert same_in_order([u.text for u in expected], [u.text for u in found]) >= 0.98
    bullets = [u.text for u in expected if u.kind == "list_item"]
    items = {u.text: u for u in found if u.kind == "list_item"}
    assert bullets and all(text in items for text in bullets)
    levels = [u.level for u in expected if u.kind == "list_item"]
    assert [items[t].level for t in bullets] == levels
    page_text = " ".join(u.text for u in found)
    for furniture in ("Running header", "Running footer", "About the institute", "cookies", "Share this",
                      "Privacy policy", "all rights reserved"):  # fmt: skip
        assert furniture not in page_text


def test_docx_tables_are_read_row_by_row_and_comments_left_out(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Follow-up actions agreed at the workshop", style="Title")
    intro = document.add_paragraph("Participants agreed on the actions in the table below.")
    document.add_comment(intro.runs, text="Reviewer: check this figure", author="R", initials="R")
    table = document.add_table(rows=3, cols=3)
    rows = [("Action", "Who", "When"), ("Adopt control lists", "Ministry of Trade", "2025"),
            ("Train customs officers", "Customs service", "2026")]  # fmt: skip
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("1540 coordinators will report back.", style="List Number")
    path = tmp_path / "table.docx"
    document.save(path)
    units = build_units(read_docx(path).lines)
    texts = [u.text for u in units]
    assert units[0].kind == "heading" and texts[0] == "Follow-up actions agreed at the workshop"
    assert texts.index("Adopt control lists | Ministry of Trade | 2025") < texts.index(
        "Train customs officers | Customs service | 2026"
    )
    assert units[-1].kind == "list_item" and units[-1].marker == "1."
    assert not any("Reviewer" in t for t in texts)


def test_html_charset_comes_from_the_document(tmp_path: Path) -> None:
    path = tmp_path / "page.htm"
    body = "<p>Alexander Chacón spoke for Central America at the meeting in San José.</p>"
    page = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252"></head>'
    path.write_bytes(f"{page}<body><article>{body}</article></body></html>".encode("cp1252"))
    extracted = read_html(path)
    assert extracted.encoding == "windows-1252"
    assert "Alexander Chacón" in extracted.lines[0].text


def test_a_corrupt_docx_is_one_plain_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04" + bytes(200))
    with pytest.raises(IngestError, match=r"^not a readable Word file"):
        read_docx(path)


# --------------------------------------------------------------------------- one run


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Seed memos as .txt, the 2011 memo as .docx and the 2013 memo as .html, an undated
    note, a corrupt .docx, a sidecar with invalid TOML: ingest and extract once."""
    root = tmp_path_factory.mktemp("mixed")
    raw = copy_memos(root / "raw")
    memo_2011, memo_2013 = memo_paths()[:2]
    write_docx(txt_units(memo_2011), raw / "as-word.docx")
    write_html(txt_units(memo_2013), raw / "as-web.html")
    (raw / "notes.txt").write_text(
        "Notes from the side meeting\n\nParticipants said that the committee should meet more often.\n",
        encoding="utf-8",
    )
    (raw / "broken.docx").write_bytes(b"PK\x03\x04" + bytes(200))
    (raw / f"{memo_2011.stem}.meta.toml").write_text("conference = 50th\n", encoding="utf-8")
    processed = root / "processed"
    codes = [
        run_cli(stage, "--raw", raw, "--processed", processed, "--jobs", "1")
        for stage in ("ingest", "extract")
    ]
    return {"codes": codes, "processed": processed, "raw": raw, "memos": (memo_2011, memo_2013)}


def _docs(run: dict) -> dict[str, dict]:
    return {row["source"]: row for row in read_table(run["processed"] / "documents.csv").to_dict("records")}


def test_the_run_goes_on_past_bad_files_and_metadata(mixed_run: dict) -> None:
    assert mixed_run["codes"] == [0, 0]
    docs = _docs(mixed_run)
    memo_2011 = mixed_run["memos"][0].name
    assert docs["broken.docx"]["status"] == "error" and docs["broken.docx"]["error"].startswith(
        "not a readable Word file"
    )
    # the sidecar could not be parsed: the memo keeps what its own text says
    assert docs[memo_2011]["conference"] == "42nd UN Issues Conference"
    assert "sidecar" not in docs[memo_2011]["meta_source"]
    assert docs["as-word.docx"]["format"] == "docx" and docs["as-web.html"]["format"] == "html"
    assert docs["as-word.docx"]["conference"] == "42nd UN Issues Conference"


def test_undated_memo_is_kept_but_in_no_time_series(mixed_run: dict) -> None:
    documents = read_table(mixed_run["processed"] / "documents.csv")
    notes = documents[documents["source"] == "notes.txt"].iloc[0]
    assert notes["status"] == "ok" and notes["year"] == "" and notes["date"] == ""
    confs = conferences(documents)
    assert notes["doc_id"] not in set(confs["doc_id"])
    assert len(confs) == len(documents) - 2  # all but the broken file and the undated note


def test_stderr_names_the_malformed_sidecar_and_the_undated_memo(tmp_path: Path, capsys) -> None:
    raw = copy_memos(tmp_path / "raw")
    (raw / "notes.txt").write_text("Notes from the side meeting\n\nNothing was decided.\n", encoding="utf-8")
    stem = memo_paths()[0].stem
    (raw / f"{stem}.meta.toml").write_text("conference = 50th\n", encoding="utf-8")
    (raw / "manifest.csv").write_text("source,conferance\nmissing.pdf,1st\n", encoding="utf-8")
    assert run_cli("ingest", "--raw", raw, "--processed", tmp_path / "processed", "--jobs", "1") == 0
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert any(line.startswith(f"error: {stem}.meta.toml: not valid TOML") for line in lines)
    assert "undated: notes.txt — give its year in notes.meta.toml" in lines
    assert any(line.startswith("error: manifest.csv: unknown column 'conferance'") for line in lines)
    assert any("missing.pdf, which is not in the raw folder" in line for line in lines)
    assert "Traceback" not in err


def test_word_and_web_memos_give_the_same_recommendations(mixed_run: dict) -> None:
    recs = read_table(mixed_run["processed"] / "recommendations.csv")
    docs = _docs(mixed_run)
    memo_2011, memo_2013 = (m.name for m in mixed_run["memos"])

    def texts(source: str) -> list[str]:
        return recs[recs["doc_id"] == docs[source]["doc_id"]]["text"].tolist()

    assert texts(memo_2011) and texts("as-word.docx") == texts(memo_2011)
    assert texts(memo_2013) and texts("as-web.html") == texts(memo_2013)


def test_page_title_and_date_come_from_title_and_meta_when_the_text_has_none(tmp_path: Path) -> None:
    from pipeline.ingest.metadata import text_metadata

    path = tmp_path / "news.html"
    head = (
        "<title>Customs officers trained on dual-use goods | Regional News Service</title>"
        '<meta property="article:published_time" content="2021-03-04T09:00:00Z">'
    )
    body = "".join(
        f"<p>Sentence number {n} says what the officers learned at the course.</p>" for n in range(6)
    )
    path.write_text(
        f"<html><head>{head}</head><body><article>{body}</article></body></html>", encoding="utf-8"
    )
    extracted = read_html(path)
    meta = text_metadata(build_units(extracted.lines), extracted.properties)
    assert meta["title"] == "Customs officers trained on dual-use goods"
    assert (meta["date"], meta["year"]) == ("2021-03-04", "2021")
    assert "title=properties" in meta["meta_source"] and "date=properties" in meta["meta_source"]
