"""Property-based tests: text cleaning and unit splitting lose nothing and never raise."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.ingest.clean import join_lines, normalize_chars
from pipeline.ingest.layout import IngestError
from pipeline.ingest.text import decode_bytes, text_to_lines
from pipeline.ingest.units import MARKER, build_units

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WORD = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éü", min_size=1, max_size=9
)
PUNCT = st.sampled_from(
    [" ", " ", " ", ". ", ", ", "; ", ": ", "? ", "-", " - ", "’", "“", "(", ") ", "\u00ad"]
)


@st.composite
def memo_like_text(draw: st.DrawFn) -> str:
    """Paragraphs, headings, bullets, numbered items and Markdown, hard-wrapped or not."""
    blocks = []
    for _ in range(draw(st.integers(1, 8))):
        words = draw(st.lists(WORD, min_size=1, max_size=30))
        seps = draw(st.lists(PUNCT, min_size=len(words), max_size=len(words)))
        body = "".join(w + s for w, s in zip(words, seps, strict=True)).strip()
        shape = draw(
            st.sampled_from(["para", "wrapped", "heading", "bullet", "numbered", "md-heading", "bold"])
        )
        if shape == "wrapped":
            cut = draw(st.integers(1, max(1, len(body) - 1)))
            body = body[:cut] + "\n" + body[cut:]
        elif shape == "heading":
            body = " ".join(words[:5])
        elif shape == "bullet":
            body = "- " + body
        elif shape == "numbered":
            body = f"{draw(st.integers(1, 20))}. " + body
        elif shape == "md-heading":
            body = "## " + body
        elif shape == "bold":
            body = "**" + body + "**"
        blocks.append(body)
    return "\n\n".join(blocks) + "\n"


def alnum(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def without_markers(text: str) -> str:
    """The input as the units should carry it: list markers are layout, not text."""
    lines = []
    for line in text.splitlines():
        heading = re.match(r"^\s{0,3}#{1,6}\s+(.*)$", line)
        if heading:  # a Markdown heading keeps its text, marker-like or not
            lines.append(heading.group(1))
            continue
        match = MARKER.match(line.strip().replace("**", ""))
        lines.append(match.group("rest") if match else line.strip())
    return "\n".join(lines)


@FAST
@given(memo_like_text())
def test_units_keep_every_letter_and_digit_once_and_in_order(text: str) -> None:
    units = build_units(text_to_lines(text))
    kept = alnum("".join(u.text for u in units))
    expected = alnum(normalize_chars(without_markers(text)))
    # numbered headings keep their number in the unit text ("1. Objectives")
    numbered_headings = [u for u in units if u.kind == "heading" and re.match(r"^\(?\d{1,3}[.)] ", u.text)]
    if not numbered_headings:
        assert kept == expected


@FAST
@given(st.text(max_size=400))
def test_any_text_builds_units_without_raising(text: str) -> None:
    units = build_units(text_to_lines(text))
    assert [u.unit_id for u in units] == list(range(1, len(units) + 1))
    assert all(u.text.strip() == u.text and u.text for u in units)
    assert all(u.kind in {"heading", "sentence", "list_item", "boilerplate"} for u in units)


@FAST
@given(st.lists(st.text(max_size=40), max_size=6))
def test_joining_lines_never_raises_and_keeps_letters(lines: list[str]) -> None:
    joined = join_lines(lines)
    assert alnum(joined.replace("\u00ad", "")) == alnum("".join(lines).replace("\u00ad", ""))


@FAST
@given(st.binary(max_size=600))
def test_any_bytes_decode_or_fail_with_a_plain_reason(data: bytes) -> None:
    try:
        text, encoding = decode_bytes(data)
    except IngestError as error:
        assert str(error) and "\n" not in str(error)
    else:
        assert isinstance(text, str) and encoding
