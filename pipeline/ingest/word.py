"""Word (.docx) reader: body paragraphs and tables -> ``Line`` objects, through python-docx.

Only the document body is read, in its own order: headers, footers, comments and footnotes
live in other parts of the package and stay out. Styles carry the layout: heading styles
(and outline levels) give heading levels, numbering (``numPr``/``ilvl``, also when a list
style such as "List Bullet 2" holds it) gives list items with their level, and a table is
read row by row, one line per row with its cells separated by " | ".
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from pipeline.ingest.clean import normalize_chars
from pipeline.ingest.layout import Extracted, IngestError, Line

_HEADING_STYLE = re.compile(r"^(?:heading|überschrift|titre)\s*(\d)$", re.I)
_LIST_STYLE = re.compile(r"^list\s*(bullet|number|continue)?\s*(\d)?$", re.I)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
INDENT_PER_LEVEL = 4.0  # character widths between list levels, as the unit builder measures them


def read_docx(path: Path) -> Extracted:
    """Read a .docx body; a file that is not a Word document is one plain error."""
    document = _open(Path(path))
    numbering = _Numbering(document)
    lines: list[Line] = []
    for block in document.element.body.iterchildren():
        if block.tag == f"{_W}p":
            lines.extend(_paragraph_lines(block, document, numbering))
        elif block.tag == f"{_W}tbl":
            lines.extend(_table_lines(block))
    if not lines:
        raise IngestError("empty Word document: no text in its body")
    return Extracted(lines=lines, n_pages=None, properties=_properties(document))


def _open(path: Path):
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        return docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile):
        if path.read_bytes()[:8].startswith(b"\xd0\xcf\x11\xe0"):
            raise IngestError("old binary Word file (.doc): save it as .docx") from None
        raise IngestError(
            "not a readable Word file: it is not a .docx (ZIP) package or it is damaged"
        ) from None
    except (KeyError, ValueError) as error:
        raise IngestError(f"not a readable Word file: a part of the package is missing ({error})") from None


def _properties(document) -> dict[str, str]:
    """The core title (File > Properties). Its dates are left out: they say when the file
    was saved, often from a template, not when the memo was written."""
    return {"title": (document.core_properties.title or "").strip()}


def _text_lines(element) -> list[str]:
    """The visible lines of a paragraph: runs and tabs, cut at line breaks (Shift+Enter)."""
    parts = []
    for node in element.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"):
        if node.tag == f"{_W}t":
            parts.append(node.text or "")
        else:
            parts.append(" " if node.tag == f"{_W}tab" else "\n")
    lines = (" ".join(normalize_chars(part).split()) for part in "".join(parts).split("\n"))
    return [line for line in lines if line]


def _text(element) -> str:
    return " ".join(_text_lines(element))


def _paragraph_lines(p, document, numbering: _Numbering) -> list[Line]:
    texts = _text_lines(p)
    if not texts:
        return []
    text = " ".join(texts)
    style = _style(p, document)
    style_name = (style.name_val if style is not None else "") or ""
    heading = _heading_level(p, style, style_name)
    if heading is not None:
        return [Line(text=text, blank_before=True, heading_level=heading)]
    item = numbering.item(p, style, style_name)
    if item is None and (named := _LIST_STYLE.match(style_name)) and named.group(1) != "continue":
        level = int(named.group(2) or 1) - 1
        item = (
            "•" if (named.group(1) or "bullet").lower() == "bullet" else numbering.count(style_name, level),
            level,
        )
    if item is not None:
        marker, level = item
        return [Line(text=text, blank_before=True, indent=level * INDENT_PER_LEVEL, list_marker=marker)]
    runs = [r for r in p.iter(f"{_W}r") if _text(r)]
    bold = bool(runs) and all(_run_bold(r, style) for r in runs)
    return [Line(text=t, blank_before=i == 0, bold=bold) for i, t in enumerate(texts)]


def _style(p, document):
    ppr = p.find(f"{_W}pPr")
    style_id = ppr.find(f"{_W}pStyle") if ppr is not None else None
    key = style_id.get(f"{_W}val") if style_id is not None else None
    try:
        return (
            document.styles.element.get_by_id(key)
            if key
            else document.styles.element.default_for("paragraph")
        )
    except (KeyError, ValueError):
        return None


def _heading_level(p, style, style_name: str) -> int | None:
    if style_name.lower() == "title":
        return 1
    if style_name.lower() == "subtitle":
        return 2
    named = _HEADING_STYLE.match(style_name)
    if named:
        return int(named.group(1))
    for holder in (p, style):
        outline = holder.find(f"{_W}pPr/{_W}outlineLvl") if holder is not None else None
        if (
            outline is not None
            and outline.get(f"{_W}val", "9").isdigit()
            and int(outline.get(f"{_W}val")) < 9
        ):
            return int(outline.get(f"{_W}val")) + 1
    return None


def _run_bold(run, style) -> bool:
    own = run.find(f"{_W}rPr/{_W}b")
    if own is not None:
        return own.get(f"{_W}val", "true") not in {"0", "false", "off"}
    inherited = style.find(f"{_W}rPr/{_W}b") if style is not None else None
    return inherited is not None and inherited.get(f"{_W}val", "true") not in {"0", "false", "off"}


class _Numbering:
    """List numbering: which numbering a paragraph uses, its format (bullet or a number) and
    a running count per list and level, so numbered items get "1.", "2.", ... as markers."""

    def __init__(self, document) -> None:
        self.formats: dict[tuple[str, int], str] = {}
        self.counts: dict[tuple[str, int], int] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract = {a.get(f"{_W}abstractNumId"): a for a in root.iter(f"{_W}abstractNum")}
        for num in root.iter(f"{_W}num"):
            ref = num.find(f"{_W}abstractNumId")
            definition = abstract.get(ref.get(f"{_W}val")) if ref is not None else None
            if definition is None:
                continue
            for lvl in definition.iter(f"{_W}lvl"):
                fmt = lvl.find(f"{_W}numFmt")
                value = fmt.get(f"{_W}val") if fmt is not None else "decimal"
                self.formats[(num.get(f"{_W}numId"), int(lvl.get(f"{_W}ilvl", "0")))] = value

    def item(self, p, style, style_name: str) -> tuple[str, int] | None:
        """(marker, level) of a numbered or bulleted paragraph, else None. The level is the
        paragraph's own ``ilvl``, else the number of a list style ("List Bullet 2" is 1),
        else the style's ``ilvl``."""
        num_pr = p.find(f"{_W}pPr/{_W}numPr")
        if num_pr is None and style is not None:
            num_pr = style.find(f"{_W}pPr/{_W}numPr")
        if num_pr is None:
            return None
        num_id = num_pr.find(f"{_W}numId")
        ilvl = num_pr.find(f"{_W}ilvl")
        key = num_id.get(f"{_W}val") if num_id is not None else ""
        if key == "0":  # numbering switched off for this paragraph
            return None
        named = _LIST_STYLE.match(style_name)
        if ilvl is not None:
            level = int(ilvl.get(f"{_W}val", "0"))
        elif named and named.group(2):
            level = int(named.group(2)) - 1
        else:
            level = 0
        fmt = self.formats.get((key, level), "bullet")
        if fmt in {"bullet", "none"}:
            return "•", level
        return self.count(key, level), level

    def count(self, key: str, level: int) -> str:
        self.counts[(key, level)] = self.counts.get((key, level), 0) + 1
        for deeper in [k for k in self.counts if k[0] == key and k[1] > level]:
            del self.counts[deeper]  # a sub-list restarts under each new parent item
        return f"{self.counts[(key, level)]}."


def _table_lines(table) -> list[Line]:
    """One line per table row, cells in order; merged cells repeated by Word are read once."""
    lines = []
    for row in table.iter(f"{_W}tr"):
        cells: list[str] = []
        for cell in row.iterchildren(f"{_W}tc"):
            text = " ".join(_text(p) for p in cell.iter(f"{_W}p") if _text(p))
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            lines.append(Line(text=" | ".join(cells), blank_before=True))
    return lines
