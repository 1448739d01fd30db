"""Web page (.html/.htm) reader: main content -> ``Line`` objects.

trafilatura finds the main content the way readability tools do (navigation, headers,
footers, cookie banners, share and comment blocks left out) and returns it as XML that keeps
the structure: ``head`` (h1-h6), ``p``, ``list``/``item`` (nested lists kept), ``quote``
(blockquote) and ``table``/``row``/``cell``. That tree is walked here into lines for the
unit builder. The charset comes from the document: a byte-order mark, then a
``<meta charset>`` (or ``http-equiv``) declaration, then UTF-8, then the text decoder's guess.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from pipeline.ingest.clean import normalize_chars
from pipeline.ingest.layout import Extracted, IngestError, Line
from pipeline.ingest.text import decode_bytes

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# <meta> names that state a title or a date, most specific first
_TITLE_META = ("citation_title", "dc.title", "og:title", "twitter:title")
_DATE_META = (
    "citation_publication_date", "citation_date", "dc.date", "dcterms.date", "dcterms.created",
    "article:published_time", "date", "pubdate", "publication_date",
)  # fmt: skip
INDENT_PER_LEVEL = 4.0


def decode_html(data: bytes) -> tuple[str, str]:
    """(text, encoding) of an HTML file, the charset taken from the document itself."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding), encoding.replace("-sig", "")
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        name = declared.group(1).decode("ascii", "ignore").lower()
        try:
            codecs.lookup(name)
            return data.decode(name, errors="replace"), name
        except LookupError:
            pass
    return decode_bytes(data)


def read_html(path: Path) -> Extracted:
    import trafilatura
    from lxml import etree, html

    text, encoding = decode_html(Path(path).read_bytes())
    if not text.strip():
        raise IngestError("empty file: no text in it")
    try:
        page = html.document_fromstring(text)
    except (etree.ParserError, ValueError) as error:
        raise IngestError(f"not a readable web page ({error})") from None
    properties = _page_properties(page)
    extracted = trafilatura.extract(
        page,
        output_format="xml",
        include_comments=False,
        include_tables=True,
        include_formatting=True,
        favor_recall=True,
        with_metadata=False,
    )
    if not extracted:
        raise IngestError("no main text found in the web page")
    root = etree.fromstring(extracted.encode("utf-8"))
    body = root.find("main")
    lines = _walk(body if body is not None else root, level=0)
    if not lines:
        raise IngestError("no main text found in the web page")
    return Extracted(lines=lines, n_pages=None, encoding=encoding, properties=properties)


def _page_properties(page) -> dict[str, str]:
    """<title> and the title/date <meta> tags (name= or property=)."""
    metas: dict[str, str] = {}
    for meta in page.iter("meta"):
        key = (meta.get("name") or meta.get("property") or meta.get("itemprop") or "").strip().lower()
        value = " ".join((meta.get("content") or "").split())
        if key and value:
            metas.setdefault(key, value)
    title_element = page.find(".//title")
    page_title = " ".join(title_element.text_content().split()) if title_element is not None else ""
    return {
        "title": next((metas[k] for k in _TITLE_META if k in metas), "") or page_title,
        "page_title": page_title,
        "date": next((metas[k] for k in _DATE_META if k in metas), ""),
    }


def _clean(text: str) -> str:
    return " ".join(normalize_chars(text).split())


def _inline_text(element, skip: tuple[str, ...] = ("list",)) -> list[str]:
    """Text of an element without its nested lists, cut at ``<lb/>`` line breaks."""
    parts = [element.text or ""]
    for child in element:
        if child.tag in skip or child.tag == "lb":
            parts.append("\n")
        else:
            parts.append("".join(_inline_text(child, skip)))
        parts.append(child.tail or "")
    return ["".join(parts)]


def _text_lines(element) -> list[str]:
    return [t for t in (_clean(part) for part in "".join(_inline_text(element)).split("\n")) if t]


def _block_lines(texts: list[str], **cues) -> list[Line]:
    return [Line(text=t, blank_before=i == 0, **cues) for i, t in enumerate(texts)]


def _walk(element, level: int) -> list[Line]:
    lines: list[Line] = []
    for child in element:
        tag = child.tag
        if tag == "head":
            rend = child.get("rend", "h2")
            heading = int(rend[1]) if re.fullmatch(r"h[1-6]", rend) else 2
            text = _clean(" ".join(_text_lines(child)))
            if text:
                lines.append(Line(text=text, blank_before=True, heading_level=heading))
        elif tag == "p":
            bold = (
                all(h.get("rend") == "#b" for h in child)
                and len(child) > 0
                and not (child.text or "").strip()
            )
            lines.extend(_block_lines(_text_lines(child), bold=bold))
        elif tag == "list":
            lines.extend(_list_lines(child, level))
        elif tag in {"quote", "div", "main"}:
            lines.extend(_walk(child, level) or _block_lines(_text_lines(child)))
        elif tag == "table":
            for row in child.iter("row"):
                cells = [_clean(" ".join(_text_lines(cell))) for cell in row.iter("cell")]
                cells = [c for c in cells if c]
                if cells:
                    lines.append(Line(text=" | ".join(cells), blank_before=True))
        elif tag not in {"graphic", "comments"}:
            lines.extend(_block_lines(_text_lines(child)))
    return lines


def _list_lines(element, level: int) -> list[Line]:
    numbered = element.get("rend") == "ol"
    lines: list[Line] = []
    for number, item in enumerate(element.iterchildren("item"), start=1):
        marker = f"{number}." if numbered else "•"
        texts = _text_lines(item)
        if texts:
            lines.append(
                Line(text=texts[0], blank_before=True, indent=level * INDENT_PER_LEVEL, list_marker=marker)
            )
            lines.extend(Line(text=t, indent=level * INDENT_PER_LEVEL + 2) for t in texts[1:])
        for nested in item.iterchildren("list"):
            lines.extend(_list_lines(nested, level + 1))
    return lines
