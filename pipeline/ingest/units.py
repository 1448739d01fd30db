"""Lines -> units: headings, sentences and list items, in reading order.

The same rules run for every format, reading only layout cues (blank lines / vertical gaps,
indents, list markers, bold and size, explicit heading markup) and the knowledge in
``pipeline/data/layout.toml`` (abbreviations, memo header labels, boilerplate cues).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pipeline.ingest.clean import is_link_continuation, join_lines, word_counts
from pipeline.ingest.inline import label_and_rest, speaker_labels, split_inline_list
from pipeline.ingest.layout import Line, Unit
from pipeline.knowledge import data_path

MARKER = re.compile(
    r"^(?P<marker>[-*+•◦▪▫●○■□–—‣⁃]|\(?\d{1,3}[.)]|\([a-z]\)|[a-z][.)]|\(?[ivx]{1,4}[.)])"
    r"\s+(?P<rest>\S.*)$"
)
_NUMBERED = re.compile(r"^\(?\d{1,3}[.)]$")
_FOOTNOTE = re.compile(r"^(?:[¹²³⁴⁵⁶⁷⁸⁹⁰]+|\[\d{1,3}\]|\*)\s*\S")
_TERMINAL = re.compile(r"[.;:,!?…]$")
_TRAILING_DECOR = re.compile(r"[\s\"'”’)\]¹²³⁴⁵⁶⁷⁸⁹⁰*]+$")
_SENTENCE_END = re.compile(r"(?P<end>[.!?…]+[\"”’')\]]*[¹²³⁴⁵⁶⁷⁸⁹⁰]*)\s+(?=[\"“‘(\[]?[A-Z0-9¹²³⁴⁵⁶⁷⁸⁹⁰])")
_WORD_BEFORE = re.compile(r"(\S+?)[.!?…]+[\"”’')\]]*[¹²³⁴⁵⁶⁷⁸⁹⁰]*$")
_SMALL_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "by",
        "for",
        "from",
        "in",
        "into",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
        "vs",
        "via",
        "per",
        "under",
        "over",
    ]  # fmt: skip
)
MAX_HEADING_WORDS = 14
_GENERIC_LABEL = re.compile(r"^([A-Z][A-Za-z]+(?:\s[A-Za-z]+){0,2}(?:\(s\))?)\s*:\s+\S")


@dataclass(frozen=True)
class LayoutRules:
    """Knowledge from ``layout.toml``, compiled once."""

    abbreviations: frozenset[str]
    hyphen_prefixes: frozenset[str]
    title_labels: frozenset[str]
    furniture_labels: frozenset[str]
    field_labels: frozenset[str]
    contact: tuple[re.Pattern[str], ...]
    notices: tuple[re.Pattern[str], ...]
    profile_sections: tuple[re.Pattern[str], ...]
    speaker_roles: frozenset[str] = frozenset()
    not_speakers: frozenset[str] = frozenset()
    raw: dict = field(default_factory=dict, compare=False, hash=False)


@lru_cache(maxsize=4)
def load_rules(path: Path | None = None) -> LayoutRules:
    raw = tomllib.loads((path or data_path("layout.toml")).read_text(encoding="utf-8"))
    fields = raw["fields"]
    boiler = raw["boilerplate"]
    all_labels = {label for labels in fields.values() for label in labels}
    return LayoutRules(
        abbreviations=frozenset(a.lower() for a in raw["abbreviations"]),
        hyphen_prefixes=frozenset(p.lower() for p in raw.get("hyphen_kept_after", [])),
        title_labels=frozenset([*fields["title"], *fields.get("event", [])]),
        furniture_labels=frozenset(fields["furniture"]),
        field_labels=frozenset(all_labels),
        contact=tuple(re.compile(p) for p in boiler["contact_patterns"]),
        notices=tuple(re.compile(p) for p in boiler["sentence_patterns"]),
        profile_sections=tuple(re.compile(p) for p in boiler["section_patterns"]),
        speaker_roles=frozenset(r.lower() for r in raw.get("speakers", {}).get("roles", [])),
        not_speakers=frozenset(
            [*(w.lower() for w in raw.get("speakers", {}).get("not_speakers", [])), *all_labels]
        ),
        raw=raw,
    )


# --------------------------------------------------------------------------- sentences


def split_sentences(text: str, abbreviations: frozenset[str]) -> list[str]:
    """Rule-based sentence split that respects abbreviations and initials."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end("end")
        candidate = text[start:end]
        word = _WORD_BEFORE.search(candidate)
        before = word.group(1).lower().lstrip('("“‘') if word else ""
        if before in abbreviations or (len(before) == 1 and before.isalpha()):
            continue
        sentences.append(candidate.strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return [s for s in sentences if s]


# --------------------------------------------------------------------------- blocks


@dataclass
class _Block:
    kind: str  # paragraph | item | heading
    lines: list[Line]
    texts: list[str]
    marker: str = ""
    marker_indent: float = 0.0
    level: int = 0

    @property
    def first(self) -> Line:
        return self.lines[0]


def _strip_decor(text: str) -> str:
    return _TRAILING_DECOR.sub("", text)


def _title_like(text: str) -> bool:
    """Most content words capitalised, as in a heading ("Evolution of UNSCR 1540")."""
    words = [w for w in re.findall(r"[A-Za-z][\w'’/-]*", text)]
    content = [w for w in words if w.lower() not in _SMALL_WORDS]
    if not content:
        return False
    capitalised = sum(w[0].isupper() for w in content)
    return capitalised / len(content) >= 0.6


def _heading_shaped(text: str) -> bool:
    stripped = _strip_decor(text)
    words = stripped.split()
    return (
        0 < len(words) <= MAX_HEADING_WORDS
        and len(stripped) <= 120
        and not _TERMINAL.search(stripped)
        and (stripped[0].isupper() or stripped[0].isdigit() or stripped[0] in '"“‘')
    )


def _ends_sentence(text: str) -> bool:
    return bool(re.search(r"[.!?;:…][\"”’')\]]*[¹²³⁴⁵⁶⁷⁸⁹⁰]*$", text.strip()))


def _make_blocks(lines: list[Line]) -> list[_Block]:
    blocks: list[_Block] = []
    for line in lines:
        text = line.text.strip()
        marker = MARKER.match(text) if line.heading_level is None else None
        if line.list_marker:
            marker_text, rest = line.list_marker, text
        elif marker:
            marker_text, rest = marker.group("marker"), marker.group("rest")
        else:
            marker_text, rest = "", text
        current = blocks[-1] if blocks else None
        if marker_text and _is_wrapped_dash(current, line, marker_text):
            marker_text, rest = "", text
        if line.heading_level is not None:
            blocks.append(_Block("heading", [line], [text]))
        elif marker_text:
            blocks.append(_Block("item", [line], [rest], marker_text, line.indent))
        elif (
            current is None
            or line.blank_before
            or current.kind == "heading"
            or _starts_new_paragraph(current, line)
        ):
            blocks.append(_Block("paragraph", [line], [text]))
        elif is_link_continuation(current.texts[-1], text):
            current.texts[-1] += text  # a wrapped web address stays one line
        else:
            current.lines.append(line)
            current.texts.append(text)
    return blocks


def _is_wrapped_dash(current: _Block | None, line: Line, marker: str) -> bool:
    """A line starting "– The ..." inside a sentence is a wrapped dash, not a new bullet:
    the running text has not ended and the list (if any) uses another marker."""
    if marker not in "–—" or current is None or current.kind == "heading" or line.blank_before:
        return False
    previous = current.texts[-1]
    return not _ends_sentence(previous) and previous[-1:].isalnum() and current.marker != marker


def _starts_new_paragraph(current: _Block, line: Line) -> bool:
    """Paragraph breaks that show without a blank line: a first-line indent or an outdent."""
    previous = current.lines[-1]
    if not _ends_sentence(current.texts[-1]):
        return False
    if current.kind == "item":
        return line.indent <= current.marker_indent + 0.5 and previous.indent > line.indent + 0.5
    return line.indent >= previous.indent + 1.5 and len(current.lines) > 1


def _split_leading_heading(block: _Block) -> list[_Block]:
    """A heading line glued to the paragraph below it (no blank line) is split off."""
    if block.kind != "paragraph" or len(block.lines) < 2:
        return [block]
    first, second = block.lines[0], block.lines[1]
    head = block.texts[0]
    if not _heading_shaped(head):
        return [block]
    styled = (first.bold and not second.bold) or first.size_ratio >= second.size_ratio + 0.1
    plain = _title_like(head) and len(head) < 0.6 * len(block.texts[1]) and len(head.split()) <= 8
    if not (styled or plain):
        return [block]
    rest = _Block("paragraph", block.lines[1:], block.texts[1:])
    return [_Block("heading", [first], [head]), rest]


def _assign_levels(blocks: list[_Block]) -> None:
    """Nesting level of list items: rank of their marker indent within one list."""
    indents: list[float] = []
    for block in blocks:
        if block.kind != "item":
            if block.kind == "heading" or block.first.blank_before and block.kind == "paragraph":
                indents = []
            continue
        level = next((i for i, x in enumerate(indents) if abs(x - block.marker_indent) < 0.75), None)
        if level is None:
            indents.append(block.marker_indent)
            indents.sort()
            level = indents.index(block.marker_indent)
        block.level = level


# --------------------------------------------------------------------------- classification


def _field_label(text: str, rules: LayoutRules) -> str | None:
    match = re.match(r"^([A-Za-z][A-Za-z ]{0,24}?)\s*:\s*\S", text)
    if match and match.group(1).strip().lower() in rules.field_labels:
        return match.group(1).strip().lower()
    return None


def _is_contact_line(text: str, rules: LayoutRules) -> bool:
    return any(p.search(text) for p in rules.contact)


def _is_letterhead(texts: list[str], rules: LayoutRules) -> bool:
    """An address/contact block: contact lines, and otherwise only short name-like lines
    (not a sentence that happens to wrap onto an e-mail address)."""
    contact = [_is_contact_line(t, rules) for t in texts]
    if not any(contact) or sum(contact) / len(texts) < 0.4:
        return False
    others = [t for t, is_contact in zip(texts, contact, strict=True) if not is_contact]
    return all(len(t.split()) <= 8 and not _ends_sentence(t) for t in others)


def _block_is_heading(block: _Block, next_block: _Block | None) -> bool:
    if block.kind == "heading":
        return True
    text = " ".join(block.texts)
    styled = all(line.bold for line in block.lines) or min(line.size_ratio for line in block.lines) >= 1.12
    if block.kind == "item":
        # "1. **Objectives of the workshop**": a numbered, styled, short line is a heading.
        return bool(_NUMBERED.match(block.marker)) and styled and _heading_shaped(text)
    if len(block.lines) > 1:
        return styled and _heading_shaped(text) and len(text.split()) <= 25
    if not _heading_shaped(text):
        return False
    if styled:
        return True
    stands_alone = next_block is None or next_block.first.blank_before or next_block.kind != "paragraph"
    return stands_alone and not text[:1].islower()


def build_units(lines: list[Line], rules: LayoutRules | None = None) -> list[Unit]:
    """Turn a document's lines into ordered units (see docs/outputs.md for the kinds)."""
    rules = rules or load_rules()
    evidence = word_counts(" ".join(line.text for line in lines))
    blocks = [part for block in _make_blocks(lines) for part in _split_leading_heading(block)]
    _assign_levels(blocks)
    speakers = speaker_labels(
        (b.texts[0] for b in blocks if b.kind == "paragraph"), rules.speaker_roles, rules.not_speakers
    )

    units: list[Unit] = []
    section = ""
    in_profile = False

    def add(
        kind: str,
        text: str,
        block_no: int,
        block: _Block,
        line: Line,
        speaker: str = "",
        item: str | None = None,
        deeper: bool = False,
    ) -> None:
        """``item``: the marker of an item cut from inside the block's text; ``deeper`` when
        it is nested in the block's own list item."""
        if kind in {"sentence", "list_item"} and (in_profile or any(p.search(text) for p in rules.notices)):
            kind = "boilerplate"
        units.append(
            Unit(
                unit_id=len(units) + 1,
                kind=kind,
                text=text,
                section=section,
                page=line.page,
                block=block_no,
                level=block.level + deeper,
                marker=block.marker if item is None else item,
                speaker=speaker,
            )
        )

    for number, block in enumerate(blocks, start=1):
        next_block = blocks[number] if number < len(blocks) else None
        joined = join_lines(block.texts, evidence, rules.hyphen_prefixes)
        if not joined:
            continue
        if block.kind == "paragraph" and _is_letterhead(block.texts, rules):
            for line, text in zip(block.lines, block.texts, strict=True):
                add("boilerplate", text, number, block, line)
            continue
        if block.kind == "paragraph" and _field_label(block.texts[0], rules):
            _emit_fields(block, number, rules, add)
            if any(_field_label(t, rules) in rules.title_labels for t in block.texts):
                section = joined
            continue
        if _is_title_block(block, units) and not _block_is_heading(block, next_block):
            for line, text in zip(block.lines, block.texts, strict=True):
                add("heading", text, number, block, line)
            section = block.texts[0]
            continue
        if block.kind == "paragraph" and _FOOTNOTE.match(joined):
            for sentence in split_sentences(joined, rules.abbreviations):
                add("boilerplate", sentence, number, block, block.first)
            continue
        if _block_is_heading(block, next_block):
            heading = joined if block.kind != "item" else f"{block.marker} {joined}"
            section = heading
            in_profile = any(p.search(heading) for p in rules.profile_sections)
            add("heading", heading, number, block, block.first)
            continue
        kind = "list_item" if block.kind == "item" else "sentence"
        speaker = ""
        if block.kind == "paragraph" and (turn := label_and_rest(joined)) and turn[0] in speakers:
            speaker, joined = turn
        enumeration = split_inline_list(joined, block.marker)
        if enumeration is None:
            for sentence in split_sentences(joined, rules.abbreviations):
                add(kind, sentence, number, block, block.first, speaker)
            continue
        for sentence in split_sentences(enumeration.lead_in, rules.abbreviations):
            add(kind, sentence, number, block, block.first, speaker)
        *items, (last_marker, last) = enumeration.items
        last_item, *after = split_sentences(last, rules.abbreviations)
        for marker, text in [*items, (last_marker, last_item)]:
            deeper = block.kind == "item" and not enumeration.continues
            add("list_item", text, number, block, block.first, speaker, item=marker, deeper=deeper)
        for sentence in after:
            add(kind, sentence, number, block, block.first, speaker)
    return units


def _emit_fields(block: _Block, number: int, rules: LayoutRules, add) -> None:
    """Memo header lines ("DATE: ...", "SUBJECT: ..."): title fields are headings. Each line
    that starts with a label of its own ("Organizers: ...") is its own field; a line without
    one continues the field above it."""
    entries: list[tuple[str | None, list[str], Line]] = []
    for text, line in zip(block.texts, block.lines, strict=True):
        label = _field_label(text, rules) or _generic_label(text)
        if label or not entries:
            entries.append((label, [text], line))
        else:
            entries[-1][1].append(text)
    for label, texts, line in entries:
        kind = "heading" if label in rules.title_labels else "boilerplate"
        add(kind, join_lines(texts, kept_prefixes=rules.hyphen_prefixes), number, block, line)


def _generic_label(text: str) -> str | None:
    """A header label not listed in layout.toml: one to three capitalised words and a colon."""
    match = _GENERIC_LABEL.match(text)
    return match.group(1).lower() if match else None


def _is_title_block(block: _Block, units: list[Unit]) -> bool:
    """Short stand-alone lines before any running text (event name, place and date, theme):
    each is a line of the title block, not one sentence."""
    if block.kind != "paragraph" or len(block.lines) < 2 or len(block.lines) > 6:
        return False
    if any(u.kind in {"sentence", "list_item"} for u in units):
        return False
    return all(_heading_shaped(t) and len(t.split()) <= MAX_HEADING_WORDS for t in block.texts)
