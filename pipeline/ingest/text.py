"""Plain-text and Markdown reader: bytes -> decoded text -> ``Line`` objects.

Markdown markup is removed from the text but read as layout (``#`` headings, ``**bold**``
lines, list markers), so a memo saved as .md and the same memo as .txt give equal units.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from pipeline.ingest.clean import normalize_chars
from pipeline.ingest.layout import Extracted, IngestError, Line

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_PREFIX = re.compile(r"^(\s*(?:[-*+•◦▪●–]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s+)(.*)$")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()\s]|\([^()\s]*\))+\)")  # targets may hold (...)
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^>\s]+|[\w.+-]+@[\w-]+\.[\w.-]+)>")
_STRONG = re.compile(r"\*\*|__")
_EMPH = re.compile(r"(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])")
_CODE = re.compile(r"`+")
_BLOCKQUOTE = re.compile(r"^\s{0,3}>\s?")
_HTML_TAG = re.compile(r"</?(?:b|i|em|strong|u|br|span|sup|sub)\b[^>]*>", re.IGNORECASE)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode a text file, returning (text, encoding); refuse binary data clearly."""
    if not data:
        raise IngestError("empty file (0 bytes)")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding), encoding.replace("-sig", "")
    if b"\x00" in data:
        utf16 = _guess_utf16_without_bom(data)
        if utf16:
            return data.decode(utf16), utf16
        raise IngestError("not a text file: it contains binary data")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    western = _decode_western(data)
    if western:
        return western
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise IngestError("not a text file: no known text encoding fits its bytes")
    encoding = best.encoding.replace("_", "-")
    text = str(best)
    if encoding.startswith(("cp1252", "windows-1252", "latin")) or _looks_textual(text):
        return text, encoding
    raise IngestError("not a text file: it contains binary data")


def _decode_western(data: bytes) -> tuple[str, str] | None:
    """Legacy Western encodings first: memos in English are far likelier cp1252/Latin-1
    than an Asian code page, which a statistical guess may pick on short texts."""
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        non_ascii = [ch for ch in text if ord(ch) > 127]
        plausible = sum(ch.isalpha() or ch in "–—‘’“”•…€£§°±·¹²³½¼¾«»©®™" for ch in non_ascii)
        if _looks_textual(text) and plausible >= 0.9 * len(non_ascii):
            return text, encoding
    return None


def _guess_utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a BOM has a NUL in every other byte of ASCII characters."""
    sample = data[:4000]
    even_nuls = sample[0::2].count(0) / max(1, len(sample[0::2]))
    odd_nuls = sample[1::2].count(0) / max(1, len(sample[1::2]))
    for encoding, ratio in (("utf-16-le", odd_nuls), ("utf-16-be", even_nuls)):
        if ratio > 0.3:
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            if _looks_textual(text):
                return encoding
    return None


def _looks_textual(text: str) -> bool:
    if not text:
        return False
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in text)
    letters = sum(ch.isalpha() for ch in text)
    return printable / len(text) > 0.97 and letters / len(text) > 0.4


def strip_inline_markup(text: str) -> str:
    """Markdown inline markup out, the words kept (links keep their text, URLs stay)."""
    text = _LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _HTML_TAG.sub("", text)
    text = _STRONG.sub("", text)
    text = _EMPH.sub("", text)
    text = _CODE.sub("", text)
    return text


def _is_strong(content: str) -> bool:
    stripped = content.strip()
    return (
        len(stripped) > 4 and stripped.startswith(("**", "__")) and stripped.endswith(("**", "__"))
    )


def text_to_lines(text: str) -> list[Line]:
    """Split decoded text into ``Line`` objects with indent, blank-line and markup cues."""
    lines: list[Line] = []
    blank = True
    in_fence = False
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        raw = normalize_chars(raw.rstrip())
        if raw.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            blank = True
            continue
        if not raw.strip() or set(raw.strip()) <= set("-=*_ ") and len(raw.strip()) >= 3:
            blank = True  # blank lines and Markdown rules separate paragraphs
            continue
        raw = _BLOCKQUOTE.sub("", raw)
        indent = len(raw) - len(raw.lstrip(" "))
        level = None
        bold = False
        heading = _HEADING.match(raw)
        if heading and not in_fence:
            level = len(heading.group(1))
            raw = heading.group(2)
        else:
            prefix = _LIST_PREFIX.match(raw)
            content = prefix.group(2) if prefix else raw
            bold = _is_strong(content)
        line_text = strip_inline_markup(raw.strip())
        if line_text.strip():
            lines.append(
                Line(
                    text=line_text.strip(),
                    indent=float(indent),
                    blank_before=blank,
                    bold=bold,
                    heading_level=level,
                )
            )
        blank = False
    return lines


def read_text_file(path: Path) -> Extracted:
    data = Path(path).read_bytes()
    text, encoding = decode_bytes(data)
    if not text.strip():
        raise IngestError("empty file: no text in it")
    lines = text_to_lines(text)
    if not lines:
        raise IngestError("empty file: no text in it")
    return Extracted(lines=lines, n_pages=None, encoding=encoding)
