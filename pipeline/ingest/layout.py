"""The layout model shared by all readers: visual lines in, text units out.

Readers (plain text, Markdown, PDF) differ only in how they produce ``Line`` objects; the
unit builder (``pipeline.ingest.units``) turns lines into headings, sentences and list items
the same way for every format, so a PDF and the text it was made from give the same units.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Line:
    """One visual line of a document, with the layout cues the unit builder needs.

    ``text`` is the line with markup removed but not yet de-hyphenated: the unit builder
    joins a paragraph's lines and repairs words broken at a line end.
    """

    text: str
    page: int | None = None
    indent: float = 0.0  # left offset in character widths from the body's left margin
    blank_before: bool = False  # a paragraph break (blank line or vertical gap) precedes it
    bold: bool = False  # the whole line is bold / strong
    size_ratio: float = 1.0  # font size relative to the document's body text
    heading_level: int | None = None  # explicit heading markup (Markdown '#'), else None
    list_marker: str | None = None  # explicit list marker already split off by the reader


@dataclass
class Unit:
    """One heading, sentence or list item, in reading order."""

    unit_id: int
    kind: str  # heading | sentence | list_item | boilerplate
    text: str
    section: str = ""
    page: int | None = None
    block: int = 0  # paragraph / list-item number: sentences of one bullet share it
    level: int = 0  # list nesting level (0 = top)
    marker: str = ""  # list marker as written ("-", "•", "1.", "(a)")
    speaker: str = ""  # the turn's speaker label in a transcript ("Moderator", "Q"), else ""


@dataclass
class Extracted:
    """What a reader got out of one file, before units are built."""

    lines: list[Line]
    n_pages: int | None = None
    encoding: str = ""
    removed_lines: int = 0  # page furniture dropped (running headers, footers, page numbers)
    notes: list[str] = field(default_factory=list)  # warnings for the documents' ``notes`` column
    # what the file format itself states: docx core properties, HTML <title>/<meta>
    properties: dict[str, str] = field(default_factory=dict)


class IngestError(Exception):
    """A file that cannot be read; the message is one line in plain words for the user."""
