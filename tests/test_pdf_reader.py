"""The PDF reader on PDFs built from the two raw memos (one- and two-column layouts)
and on broken files: reading order, page furniture, layout cues and error messages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.ingest.layout import IngestError
from pipeline.ingest.pdf import (
    RowBox,
    find_gutters,
    is_bold_font,
    is_page_number,
    left_margin,
    read_pdf,
    text_layer_problem,
)
from tools import synth_pdf as pdfbuild

RAW = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "memos"
MEMO_2011 = RAW / "2011-03-01_policy-memo_42nd-un-issues-conference.txt"
MEMO_2013 = RAW / "2013-02_information-note_44th-un-issues-conference.txt"
HYPHENS = "-\u2010\u00ad"


def _blocks(path: Path) -> list[tuple[str, str]]:
    return pdfbuild.memo_blocks(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """Every layout of both memos, built once: {(memo, layout): (pdf path, hyphenator)}."""
    folder = tmp_path_factory.mktemp("pdfs")
    out = {}
    for memo, path in (("2011", MEMO_2011), ("2013", MEMO_2013)):
        blocks = _blocks(path)
        one = folder / f"{memo}-one.pdf"
        two = folder / f"{memo}-two.pdf"
        out[(memo, "one")] = (one, pdfbuild.build_one_column_pdf(blocks, one))
        out[(memo, "two")] = (two, pdfbuild.build_two_column_pdf(blocks, two))
    return out


@pytest.fixture(scope="module")
def read(built) -> dict:
    return {key: read_pdf(path) for key, (path, _) in built.items()}


def _norm(text: str) -> str:
    """Letters and digits only: hyphens, spaces and markers cannot hide an order error."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _join(lines) -> str:
    """A simple local join: a line-end hyphen before a lower-case letter is dropped."""
    out = ""
    for line in lines:
        text = line.text
        if out and out[-1] in HYPHENS and text[:1].islower():
            out = out[:-1] + text
        else:
            out = f"{out} {text}" if out else text
    return out


def _expected_groups(blocks) -> list[str]:
    """Paragraph-break groups as the builders lay them out: a run of bullets has no gaps."""
    groups: list[str] = []
    previous = ""
    for kind, text in blocks:
        listy = kind in ("bullet", "subbullet")
        if listy and previous in ("bullet", "subbullet"):
            groups[-1] += " " + text
        else:
            groups.append(text)
        previous = kind
    return [_norm(g) for g in groups]


def _groups(lines) -> list[str]:
    groups: list[list] = []
    for line in lines:
        if line.blank_before or not groups:
            groups.append([line])
        else:
            groups[-1].append(line)
    return [_norm(_join(g)) for g in groups]


# ----------------------------------------------------------------------------- reading order


@pytest.mark.parametrize("memo", ["2011", "2013"])
@pytest.mark.parametrize("layout", ["one", "two"])
def test_paragraphs_come_out_whole_and_in_order(read, memo, layout):
    source = MEMO_2011 if memo == "2011" else MEMO_2013
    paragraphs = [_norm(text) for _, text in _blocks(source)]
    joined = _norm(_join(read[(memo, layout)].lines))
    positions = [joined.find(p) for p in paragraphs]
    found = [p for p in positions if p >= 0]
    assert len(found) >= 0.98 * len(paragraphs)
    assert found == sorted(found)  # paragraph order kept across columns and pages


def test_two_column_fixture_really_interleaves_without_column_detection(built):
    """pdfplumber's row-wise text mixes the columns: the fixture does test column order."""
    import pdfplumber

    path, _ = built[("2011", "two")]
    with pdfplumber.open(path) as pdf:
        naive = _norm(" ".join(page.extract_text() or "" for page in pdf.pages))
    paragraphs = [_norm(t) for k, t in _blocks(MEMO_2011) if k == "paragraph" and len(t) > 300]
    assert sum(p in naive for p in paragraphs) <= len(paragraphs) // 2


@pytest.mark.parametrize("layout", ["one", "two"])
def test_paragraph_breaks_match_the_source(read, layout):
    for memo, source in (("2011", MEMO_2011), ("2013", MEMO_2013)):
        assert _groups(read[(memo, layout)].lines) == _expected_groups(_blocks(source))


def test_paragraph_continuing_on_next_page_gets_no_break(read):
    lines = read[("2011", "one")].lines
    turns = [(a, b) for a, b in zip(lines, lines[1:], strict=False) if b.page != a.page]
    assert turns
    continued = [b for a, b in turns if not re.search(r"[.:;]$", a.text)]
    assert all(not b.blank_before for b in continued)


# ----------------------------------------------------------------------------- furniture


@pytest.mark.parametrize("memo", ["2011", "2013"])
def test_headers_footers_and_page_numbers_removed_and_counted(read, memo):
    extracted = read[(memo, "one")]
    texts = [line.text for line in extracted.lines]
    assert extracted.n_pages >= 2
    assert not any(pdfbuild.HEADER in t or "not for citation" in t for t in texts)
    assert not any(re.fullmatch(r"-\s*\d+\s*-", t) for t in texts)
    assert extracted.removed_lines == 3 * extracted.n_pages
    two = read[(memo, "two")]
    assert not any(pdfbuild.HEADER in ln.text or re.fullmatch(r"Page \d+", ln.text) for ln in two.lines)
    assert two.removed_lines == 2 * two.n_pages


def test_2011_memo_spans_several_pages(read):
    assert read[("2011", "one")].n_pages >= 2
    assert read[("2011", "two")].n_pages >= 2


# ----------------------------------------------------------------------------- layout cues


@pytest.mark.parametrize("layout", ["one", "two"])
def test_headings_are_bold_and_larger_body_is_not(read, layout):
    headings = {_norm(t) for k, t in _blocks(MEMO_2011) if k == "heading"}
    lines = read[("2011", layout)].lines
    heading_lines = [ln for ln in lines if _norm(ln.text) in headings]
    assert len(heading_lines) >= 6
    assert all(ln.bold and ln.size_ratio > 1.05 for ln in heading_lines)
    body = [ln for ln in lines if not ln.bold]
    assert len(body) > 0.8 * len(lines) - len(heading_lines)
    assert sum(abs(ln.size_ratio - 1.0) < 0.01 for ln in lines) > 0.8 * len(lines)


@pytest.mark.parametrize("layout", ["one", "two"])
def test_superscript_footnote_marker(read, layout):
    lines = read[("2013", layout)].lines
    assert lines[0].text == "Information Note¹"
    footnote = [ln for ln in lines if ln.text.startswith("¹ For information")]
    assert len(footnote) == 1 and footnote[0].blank_before and footnote[0].size_ratio < 0.9


@pytest.mark.parametrize("layout", ["one", "two"])
def test_bullets_hanging_indent_and_nesting(read, layout):
    lines = read[("2011", layout)].lines
    bullets = [i for i, ln in enumerate(lines) if ln.text.startswith("• ")]
    nested = [i for i, ln in enumerate(lines) if ln.text.startswith("– ")]
    assert len(bullets) == 12 and len(nested) == 2
    bullet_indent = lines[bullets[0]].indent
    assert all(abs(lines[i].indent - bullet_indent) < 0.3 for i in bullets)
    assert all(lines[i].indent > bullet_indent + 1 for i in nested)
    for i in bullets:  # wrapped lines of an item hang under its text, not its marker
        following = lines[i + 1]
        if not following.text.startswith(("•", "–")) and not following.blank_before:
            assert following.indent > bullet_indent + 1
    paragraphs = [ln for ln in lines if not ln.bold and ln.indent < 0.5]
    assert len(paragraphs) > len(lines) / 2


def test_line_end_hyphens_kept_as_drawn(built, read):
    """Lines are not de-hyphenated: each word the builder broke ends a line as drawn."""
    for key in (("2011", "one"), ("2013", "two")):
        _, hyphenator = built[key]
        texts = [ln.text for ln in read[key].lines]
        pairs = set(zip(texts, texts[1:], strict=False))
        assert len(hyphenator.log) >= 10
        for head, tail in hyphenator.log:
            assert any(a.endswith(head) and b.startswith(tail) for a, b in pairs), head
    ends = {ln.text[-1] for key in read for ln in read[key].lines}
    assert {"-", "\u00ad"} <= ends
    for key, extracted in read.items():  # several broken words on every full page
        pages = {ln.page for ln in extracted.lines}
        for page in pages:
            lines = [ln for ln in extracted.lines if ln.page == page]
            if len(lines) >= 30:
                assert sum(ln.text[-1] in HYPHENS for ln in lines) >= 4, (key, page)
    compounds = [h for _, hy in built.values() for h, _ in hy.log if re.search(r"\w-\w", h + "x")]
    assert any(h in ("inter-", "South-", "non-", "self-", "senior-") for h in compounds)


# ----------------------------------------------------------------------------- bad files


def _error(path: Path) -> str:
    with pytest.raises(IngestError) as info:
        read_pdf(path)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message and message.strip() == message
    return message


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.pdf"
    pdfbuild.write_zero_byte(path)
    assert _error(path) == "empty file (0 bytes)"


def test_truncated_file(built, tmp_path):
    path = tmp_path / "cut.pdf"
    pdfbuild.write_truncated_pdf(built[("2013", "one")][0], path)
    assert _error(path).startswith("not a readable PDF: the file is truncated or corrupt (")


def test_truncated_after_the_pages_is_still_refused(built, tmp_path):
    path = tmp_path / "cut-late.pdf"
    pdfbuild.write_truncated_pdf(built[("2013", "one")][0], path, keep=0.995)
    assert _error(path).startswith("not a readable PDF: the file is truncated or corrupt")


def test_not_a_pdf(tmp_path):
    path = tmp_path / "fake.pdf"
    path.write_text("just some words, not a PDF at all", encoding="utf-8")
    assert _error(path).startswith("not a PDF")


def test_encrypted_file(tmp_path):
    path = tmp_path / "locked.pdf"
    pdfbuild.write_encrypted_pdf(_blocks(MEMO_2013)[:6], path)
    assert _error(path) == "encrypted PDF: a password is required to read it"


def test_empty_user_password_is_read(tmp_path):
    path = tmp_path / "open.pdf"
    pdfbuild.write_empty_password_encrypted_pdf(_blocks(MEMO_2013), path)
    extracted = read_pdf(path)
    assert extracted.lines[0].text == "Information Note¹"
    assert len(extracted.lines) > 40


def test_image_only_file(tmp_path):
    path = tmp_path / "scan.pdf"
    pdfbuild.write_image_only_pdf(path)
    assert _error(path) == ("image-only PDF: no text layer on any page; run OCR (for example ocrmypdf) first")


def test_garbage_text_layer(tmp_path):
    path = tmp_path / "garbage.pdf"
    pdfbuild.write_garbage_text_pdf(path)
    assert _error(path).startswith("PDF text layer is unreadable")


# ----------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", True),
        ("- 3 -", True),
        ("Page 3", True),
        ("3 of 10", True),
        ("iii", True),
        ("(12)", True),
        ("— 7 —", True),
        ("Page 2 of 4", True),
        ("CIVIL", False),
        ("2011", False),
        ("3 participants", False),
        ("Introduction", False),
    ],
)
def test_is_page_number(text, expected):
    assert is_page_number(text) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Helvetica-Bold", True),
        ("ABCDEF+Calibri-Bold", True),
        ("TimesNewRomanPS-BoldMT", True),
        ("Arial,Bold", True),
        ("CMBX10", True),
        ("ABCDEF+SourceSansPro-Semibold", True),
        ("Helvetica", False),
        ("ABCDEF+Calibri", False),
        ("CMR10", False),
        ("Times-Italic", False),
    ],
)
def test_is_bold_font(name, expected):
    assert is_bold_font(name) is expected


def _row(top, *segments, words=8):
    return RowBox(top=top, bottom=top + 10, segments=[(a, b, words) for a, b in segments])


def test_find_gutters_two_columns_under_a_title():
    rows = [_row(40, (72, 540))]  # full-width title
    rows += [_row(60 + 12 * i, (72, 294), (318, 540)) for i in range(40)]
    rows += [_row(560 + 12 * i, (72, 250)) for i in range(3)]  # short left column tail
    gutters = find_gutters(rows, 10.0)
    assert len(gutters) == 1 and 294 <= gutters[0] <= 318


def test_find_gutters_none_on_one_column_or_tables():
    full = [_row(60 + 12 * i, (72, 540 - (i % 3) * 40)) for i in range(40)]
    assert find_gutters(full, 10.0) == []
    table = [_row(60 + 12 * i, (72, 150), (300, 360), words=2) for i in range(20)]
    assert find_gutters(full[:20] + table, 10.0) == []


def test_left_margin_ignores_a_stray_outdent():
    assert left_margin([72.0] * 20 + [90.0] * 10 + [50.0]) == 72.0


def test_text_layer_problem():
    assert text_layer_problem(["(cid:12)"] * 50 + list("Hello")) is not None
    assert text_layer_problem(list("§¶†‡°±×÷") * 20) is not None
    assert text_layer_problem(list("Wkh frppwwhh vkrxog eh uhqhzhg")) is None  # too short
    assert text_layer_problem(list("The committee should be renewed (2004).") * 10) is None


class _CallerTimeout(Exception):
    """Stands for the ingest stage's timeout signal, raised while pdfminer is working."""


def test_a_timeout_inside_the_parser_is_not_reported_as_corruption(built, monkeypatch):
    import pdfplumber.page

    def slow(self):
        raise _CallerTimeout

    monkeypatch.setattr(pdfplumber.page.Page, "chars", property(slow))
    with pytest.raises(_CallerTimeout):
        read_pdf(built[("2013", "one")][0])


def test_a_damaged_page_is_skipped_with_a_note(built, monkeypatch):
    import pdfplumber.page
    from pdfminer.psparser import PSSyntaxError

    original = pdfplumber.page.Page.chars

    def damaged(self):
        if self.page_number == 2:
            raise PSSyntaxError("bad content stream")
        return original.fget(self)

    monkeypatch.setattr(pdfplumber.page.Page, "chars", property(damaged))
    extracted = read_pdf(built[("2013", "one")][0])
    assert {line.page for line in extracted.lines} == {1, 3}
    assert extracted.notes == [
        "page 2 could not be read (PSSyntaxError: bad content stream); its text is missing"
    ]


def test_text_layer_of_unmapped_glyphs(tmp_path):
    path = tmp_path / "cid.pdf"
    pdfbuild.write_garbage_text_pdf(path, glyphs="•")  # Helvetica's bullet has no mapping
    assert _error(path) == "PDF text layer is unreadable (mostly undecodable glyphs); run OCR first"


_SENTENCES = [
    "States should adopt national control lists before the next review.",
    "The committee should publish its assistance requests every year.",
    "Donors should fund training for customs officers in the region.",
]


def _sideways_pdf(path: Path, page_rotation: int, text_angle: int) -> None:
    """A page turned by its /Rotate entry, or text set at an angle on an upright page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setPageRotation(page_rotation)
    pdf.translate(300, 120) if text_angle else pdf.translate(72, 760)
    pdf.rotate(text_angle)
    for number, sentence in enumerate(_SENTENCES * 4):
        pdf.drawString(0, -16 * number, sentence)
    pdf.showPage()
    pdf.save()


@pytest.mark.parametrize(("page_rotation", "text_angle"), [(90, 0), (0, 90), (0, 270)])
def test_turned_pages_are_read_in_their_reading_direction(tmp_path, page_rotation, text_angle):
    path = tmp_path / "turned.pdf"
    _sideways_pdf(path, page_rotation, text_angle)
    extracted = read_pdf(path)
    assert [line.text for line in extracted.lines] == _SENTENCES * 4
    assert extracted.notes == []


def test_a_pdf_of_three_words_is_read(tmp_path):
    from reportlab.pdfgen import canvas

    path = tmp_path / "short.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.drawString(72, 700, "Draft for comment")
    pdf.showPage()
    pdf.save()
    extracted = read_pdf(path)
    assert [line.text for line in extracted.lines] == ["Draft for comment"] and extracted.notes == []


def test_a_pdf_with_no_text_and_no_images_is_called_blank(tmp_path):
    from reportlab.pdfgen import canvas

    path = tmp_path / "blank.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.showPage()
    pdf.save()
    assert _error(path) == "blank PDF: no text and no images on any page"
