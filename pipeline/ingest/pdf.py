"""PDF reader: positioned glyphs -> visual lines in reading order, with layout cues.

Why not pdfplumber's ``extract_text``: it reads rows straight across the page, so it
interleaves the columns of a two-column memo, keeps running headers and page numbers and
glues superscript footnote markers to words ("Note1"). This reader works only from
geometry and fonts, so it behaves the same for PDFs from any producer:

1. glyphs are grouped into rows by baseline; small raised glyphs join the row they sit on
   and small raised digits become ¹²³; bullets drawn as shapes (browsers) become "•";
2. rows are split into words at gaps wider than a fraction of the font size;
3. a column gutter is an x position that no row crosses over a tall stretch of the page
   with text on both sides; rows that do cross it (titles, footnotes) are read full width;
4. lines in the top/bottom band that repeat on most pages, are just a page number, or
   carry the page number ("Chapter 2: Scope 7") are dropped as page furniture;
5. indents, paragraph gaps, bold and relative size are measured against the document's
   own body text (most common size, typical line pitch, left margin of each column).
"""

from __future__ import annotations

import math
import re
import statistics
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.ingest.clean import normalize_chars
from pipeline.ingest.layout import Extracted, IngestError, Line

# ----------------------------------------------------------------------------- thresholds
# Lengths are in font sizes (em) of the text involved unless said otherwise.
SPACE_GAP = 0.15  # a gap between glyphs wider than this is a word space
ROW_TOL = 0.25  # glyphs whose baselines differ by less than this are on one row
SUP_SIZE = 0.85  # a superscript is at most this fraction of its line's size ...
SUP_RAISE = 0.15  # ... and sits at least this much above the line's baseline
GUTTER_GAP = 0.8  # a gap this wide inside a row can be a column gutter, not a word space
GUTTER_MIN_WIDTH = 0.6  # a gutter is at least this wide
GUTTER_MIN_HEIGHT = 0.35  # ... and free of crossing rows over this share of the text height
GUTTER_MIN_ROWS = 5  # ... with this many rows on one side (a last column may be short)
GUTTER_MIN_WORDS = 2.5  # ... that look like running text (mean words per row and side)
PARA_GAP = 1.3  # baseline distance above this many line pitches is a paragraph break
PITCH_QUANTILE = 0.3  # low quantile of baseline distances = the normal line pitch
BAND = 0.15  # top/bottom share of the page height where headers and footers live
REPEAT_SHARE = 0.5  # furniture repeats on at least this share of pages
FULL_WIDTH_CHARS = 2.0  # a line ending this close to its column's right edge is full
UNREADABLE_SHARE = 0.3  # share of undecodable glyphs that makes a text layer unreadable
MIN_ALNUM_SHARE = 0.5  # below this share of letters and digits the text layer is garbage

_SUPERSCRIPT_DIGITS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_BOLD_WORD = re.compile(r"bold|black|heavy|semibold|demibold|demi\b|extrabold|ultrabold", re.I)
_BOLD_CODE = re.compile(r"[-,](?:b|bd|bdit|bi|bo)$|^cmbx|^cmb\d|^sfbx", re.I)
_PAGE_NUMBER = re.compile(
    r"^(?:(?:page|p\.|pg\.?|seite|página|pagina)\s*)?[-–—(\[]?\s*"
    r"(?:\d{1,3}|(?=[ivxl])(?:xl|l?x{0,3})(?:ix|iv|v?i{0,3}))\s*[-–—)\]]?"
    r"(?:\s*(?:of|/|de|sur|von)\s*\d{1,3})?$",
    re.IGNORECASE,
)
_TERMINAL = re.compile(r"[.!?:;…][\"”’')\]]*[¹²³⁴⁵⁶⁷⁸⁹⁰]*$")
_BULLET_LIKE = "•"
_MARK_SYMBOLS = {(False, True): "•", (False, False): "◦", (True, True): "▪", (True, False): "▫"}


# ----------------------------------------------------------------------------- data


@dataclass(slots=True)
class Glyph:
    """One drawn character (or ligature) with the geometry the layout rules need."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    base: float  # baseline, measured from the top of the page like ``top``
    size: float
    bold: bool = False


@dataclass(slots=True)
class RowBox:
    """A row reduced to what column detection needs: its height and text segments.

    ``segments`` are (x0, x1, n_words): runs of words separated by less than a gutter gap.
    """

    top: float
    bottom: float
    segments: list[tuple[float, float, int]]


@dataclass(slots=True)
class Mark:
    """A small drawn shape that may be a list bullet (browsers draw bullets as paths)."""

    x0: float
    x1: float
    top: float
    bottom: float
    symbol: str


@dataclass
class PageLine:
    """A visual line with its geometry, before document-level measures are applied."""

    glyphs: list[Glyph]
    text: str
    page: int
    band: int
    column: int
    n_columns: int
    page_height: float
    x0: float = 0.0
    x1: float = 0.0
    top: float = 0.0
    bottom: float = 0.0
    base: float = 0.0
    size: float = 0.0
    bold: bool = False

    def __post_init__(self) -> None:
        self.x0 = min(g.x0 for g in self.glyphs)
        self.x1 = max(g.x1 for g in self.glyphs)
        self.top = min(g.top for g in self.glyphs)
        self.bottom = max(g.bottom for g in self.glyphs)
        self.size = statistics.median(g.size for g in self.glyphs)
        self.base = _main_baseline(self.glyphs, self.size)
        alnum = [g for g in self.glyphs if any(ch.isalnum() for ch in g.text)]
        self.bold = bool(alnum) and all(g.bold for g in alnum)

    @property
    def group(self) -> tuple[int, int]:
        """Lines sharing a left margin: same column of the same page layout."""
        return (self.n_columns, self.column)


@dataclass
class _PageResult:
    lines: list[PageLine]
    texts: list[str]  # every glyph's text, including glyphs no line kept ("(cid:3)")
    has_graphics: bool
    off_page: int = 0  # glyphs with text drawn outside the page box (never visible)
    has_images: bool = False


@dataclass
class _Measures:
    """The document's own yardsticks: body size, char width, line pitch, column edges."""

    body_size: float
    char_width: float
    pitch: float
    left: dict[tuple[int, int], float] = field(default_factory=dict)
    right: dict[tuple[int, int], float] = field(default_factory=dict)


# ----------------------------------------------------------------------------- entry point


def read_pdf(path: Path, min_chars_per_page: int = 20) -> Extracted:
    """Read a PDF's text layer as ordered ``Line`` objects; refuse unreadable files clearly."""
    path = Path(path)
    n_pages = _precheck(path)
    pages, notes = _extract_pages(path)
    notes += _check_text_layer(pages, min_chars_per_page)
    all_lines = [line for page in pages for line in page.lines]
    kept, removed = remove_furniture(all_lines, n_pages)
    lines = _to_lines(kept)
    unmapped = sum(g.text.startswith("(cid:") for line in kept for g in line.glyphs)
    if unmapped:
        notes.append(f"{unmapped} glyphs without a Unicode mapping were dropped or read as bullets")
    return Extracted(lines=lines, n_pages=n_pages, removed_lines=removed, notes=notes)


# ----------------------------------------------------------------------------- file checks


def _precheck(path: Path) -> int:
    """Catch empty, non-PDF, encrypted and truncated files before pdfminer sees them.

    pdfminer reports these with empty or cryptic messages ("No /Root object!"), so the
    cheap checks (size, header, end marker) and pdfium's own diagnosis come first.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise IngestError(f"file not found: {path.name}") from None
    except OSError as exc:
        raise IngestError(f"cannot open the file ({exc.strerror or 'unknown error'})") from None
    if size == 0:
        raise IngestError("empty file (0 bytes)")
    with open(path, "rb") as handle:
        head = handle.read(1024)
        handle.seek(max(0, size - 8192))
        tail = handle.read()
    if b"%PDF-" not in head:
        raise IngestError("not a PDF: the file does not start with a PDF header (%PDF-)")
    n_pages = _pdfium_page_count(path)
    if b"%%EOF" not in tail:
        raise IngestError(
            "not a readable PDF: the file is truncated or corrupt "
            "(no end-of-file marker; the download or copy may be incomplete)"
        )
    if n_pages == 0:
        raise IngestError("not a readable PDF: it has no pages")
    return n_pages


def _pdfium_page_count(path: Path) -> int:
    """Open with pdfium (fast, tolerant) to tell encryption from corruption."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise IngestError("encrypted PDF: a password is required to read it") from None
        reason = re.search(r"pdfium: ([^)]*)", message)
        detail = reason.group(1).strip(" .") if reason else "pdfium cannot parse it"
        raise IngestError(f"not a readable PDF: the file is truncated or corrupt ({detail})") from None
    try:
        return len(document)
    finally:
        document.close()


_PARSER_MODULES = ("pdfminer", "pdfplumber", "builtins", "zlib", "struct", "binascii", "codecs")


def _unwrap(exc: BaseException) -> BaseException:
    """pdfplumber wraps every error, even a caller's timeout, in PdfminerException."""
    return exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc


def _is_parse_error(exc: BaseException) -> bool:
    """A damaged file, as opposed to a timeout signal or memory error raised meanwhile."""
    inner = _unwrap(exc)
    if isinstance(inner, MemoryError) or not isinstance(inner, Exception):
        return False
    return type(inner).__module__.split(".")[0] in _PARSER_MODULES


def _short_reason(exc: BaseException) -> str:
    """One short line naming what pdfminer choked on."""
    inner = _unwrap(exc)
    text = " ".join(str(inner).split())
    name = type(inner).__name__
    reason = f"{name}: {text}" if text else name
    return reason if len(reason) <= 80 else reason[:77] + "..."


def _corrupt(reason: str) -> IngestError:
    if "password" in reason.lower():
        return IngestError("encrypted PDF: a password is required to read it")
    return IngestError(f"not a readable PDF: the file is truncated or corrupt ({reason})")


# ----------------------------------------------------------------------------- pages


def _extract_pages(path: Path) -> tuple[list[_PageResult], list[str]]:
    """Run pdfplumber page by page. A page the parser cannot read is skipped with a note;
    a file it cannot open, or no readable page at all, is one plain error."""
    import pdfplumber

    pages: list[_PageResult] = []
    failed: list[tuple[int, str]] = []
    try:
        pdf = pdfplumber.open(str(path))
        page_list = pdf.pages
    except Exception as exc:
        raise _open_failure(exc) from None
    with pdf:
        for number, page in enumerate(page_list, start=1):
            try:
                objects = _PageObjects(
                    page.chars,
                    [*page.curves, *page.rects],
                    bool(page.images),
                    page.bbox,
                    float(page.height),
                )
            except Exception as exc:
                if not _is_parse_error(exc):
                    raise _unwrap(exc) from None
                failed.append((number, _short_reason(exc)))
                continue
            finally:
                page.close()
            pages.append(_read_page(objects, number))
    if failed and not pages:
        raise _corrupt(failed[0][1])
    notes = [f"page {n} could not be read ({reason}); its text is missing" for n, reason in failed]
    return pages, notes


def _open_failure(exc: BaseException) -> BaseException:
    """A damaged file becomes one plain IngestError; anything else (a caller's timeout
    signal, memory errors) is passed on unchanged, unwrapped from pdfplumber's wrapper."""
    return _corrupt(_short_reason(exc)) if _is_parse_error(exc) else _unwrap(exc)


@dataclass
class _PageObjects:
    chars: list[dict]
    shapes: list[dict]
    has_images: bool
    bbox: tuple[float, float, float, float]
    height: float


def _read_page(page: _PageObjects, number: int) -> _PageResult:
    chars, bbox, height, turned = reading_frame(page.chars, page.bbox, page.height)
    glyphs = page_glyphs(chars, bbox)
    has_graphics = page.has_images or bool(page.shapes)
    marks = [] if turned else page_marks(page.shapes)
    lines = lines_from_glyphs(glyphs, number, height, marks)
    texts = [g.text for g in glyphs]
    drawn = sum(1 for ch in chars if (ch.get("text") or "").strip())
    return _PageResult(
        lines=lines,
        texts=texts,
        has_graphics=has_graphics,
        off_page=max(0, drawn - len(glyphs)),
        has_images=page.has_images,
    )


def _orientation(ch: dict) -> tuple[int, int, int, int]:
    """How a glyph is set, from its text matrix rounded to right angles: (1, 0, 0, 1) is
    upright; others are turned, upside down or mirrored."""
    a, b, c, d = (ch.get("matrix") or (1, 0, 0, 1))[:4]
    run, up = math.hypot(a, b) or 1.0, math.hypot(c, d) or 1.0
    return round(a / run), round(b / run), round(c / up), round(d / up)


def reading_frame(
    chars: list[dict], bbox: Sequence[float], height: float
) -> tuple[list[dict], tuple[float, float, float, float], float, bool]:
    """A page whose text is mostly not upright (a rotated page, a landscape table set on a
    portrait page, text flipped by its matrix) mapped into the text's own frame, so that it
    reads left to right and top to bottom: glyph boxes, baselines and the page box. Upright
    pages come back unchanged."""
    orientations = Counter(_orientation(ch) for ch in chars if (ch.get("text") or "").strip())
    main = orientations.most_common(1)[0][0] if orientations else (1, 0, 0, 1)
    if main in {(1, 0, 0, 1), (0, 0, 0, 0)}:
        x0, top, x1, bottom = bbox
        return chars, (x0, top, x1, bottom), height, False
    a, b, c, d = main
    advance, up = (a, -b), (c, -d)  # in page coordinates (y down): run and glyph-up vectors

    def to_frame(x: float, y: float) -> tuple[float, float]:
        return x * advance[0] + y * advance[1], -(x * up[0] + y * up[1])

    left, top, right, bottom = bbox
    # the page box and the glyphs together: pdfminer may report a rotated page's glyphs
    # outside the unrotated box
    kept = [ch for ch in chars if _orientation(ch) == main]
    points = [(x, y) for x in (left, right) for y in (top, bottom)]
    points += [(ch[x], ch[y]) for ch in kept for x in ("x0", "x1") for y in ("top", "bottom")]
    framed = [to_frame(x, y) for x, y in points]
    u0, v0 = min(u for u, _ in framed), min(v for _, v in framed)
    turned = []
    for ch in kept:
        box = [to_frame(x, y) for x in (ch["x0"], ch["x1"]) for y in (ch["top"], ch["bottom"])]
        matrix = ch.get("matrix")
        page_top = ch["top"] + ch["y1"]  # the page height pdfminer measured the box in
        base = to_frame(matrix[4], page_top - matrix[5])[1] if matrix else max(v for _, v in box)
        turned.append(
            {
                **ch,
                "x0": min(u for u, _ in box) - u0,
                "x1": max(u for u, _ in box) - u0,
                "top": min(v for _, v in box) - v0,
                "bottom": max(v for _, v in box) - v0,
                "base": base - v0,
                "upright": True,
            }
        )
    width_u = max(u for u, _ in framed) - u0
    height_v = max(v for _, v in framed) - v0
    return turned, (0.0, 0.0, width_u, height_v), height_v, True


def page_marks(shapes: Iterable[dict]) -> list[Mark]:
    """Small, roughly square shapes: candidate bullets (filled disc, hollow circle, square)."""
    marks: list[Mark] = []
    for shape in shapes:
        width, height = shape["x1"] - shape["x0"], shape["bottom"] - shape["top"]
        if not (0.5 <= width <= 12 and 0.5 <= height <= 12 and 0.6 <= width / height <= 1.6):
            continue
        square = shape.get("object_type") == "rect"
        symbol = _MARK_SYMBOLS[(square, bool(shape.get("fill")))]
        marks.append(Mark(shape["x0"], shape["x1"], shape["top"], shape["bottom"], symbol))
    return marks


def attach_mark(row: list[Glyph], marks: list[Mark]) -> list[Glyph]:
    """Prefix a row with the drawn bullet just left of it, centred in its x-height."""
    size = statistics.median(g.size for g in row)
    base = _main_baseline(row, size)
    start = min(g.x0 for g in row)
    best: Mark | None = None
    for mark in marks:
        middle = (mark.top + mark.bottom) / 2
        extent = max(mark.x1 - mark.x0, mark.bottom - mark.top)
        if (
            0.15 * size <= extent <= 0.7 * size
            and base - 0.8 * size <= middle <= base
            and start - 3 * size <= mark.x1 <= start + 0.1
            and (best is None or mark.x1 > best.x1)
        ):
            best = mark
    if best is None:
        return row
    marks.remove(best)
    bullet = Glyph(best.symbol, best.x0, best.x1, best.top, best.bottom, base, size)
    return [bullet, *row]


def page_glyphs(chars: Iterable[dict], bbox: Sequence[float]) -> list[Glyph]:
    """Upright, visible, non-blank glyphs; spaces are re-derived from gaps later."""
    left, top, right, bottom = bbox
    out: list[Glyph] = []
    bold: dict[str, bool] = {}
    for ch in chars:
        text = ch.get("text") or ""
        if not text or text.isspace() or not ch.get("upright", True):
            continue
        x_mid = (ch["x0"] + ch["x1"]) / 2
        y_mid = (ch["top"] + ch["bottom"]) / 2
        if not (left - 1 <= x_mid <= right + 1 and top - 1 <= y_mid <= bottom + 1):
            continue
        size = float(ch.get("size") or ch["bottom"] - ch["top"]) or 1.0
        matrix = ch.get("matrix")
        # pdfminer's box runs from the font's descent; the text matrix holds the baseline.
        if "base" in ch:  # already measured in a turned page's frame
            base = ch["base"]
        else:
            base = ch["bottom"] - (matrix[5] - ch["y0"]) if matrix else ch["bottom"] - 0.2 * size
        out.append(
            Glyph(
                text=text,
                x0=float(ch["x0"]),
                x1=float(ch["x1"]),
                top=float(ch["top"]),
                bottom=float(ch["bottom"]),
                base=float(base),
                size=size,
                bold=_cached_bold(ch.get("fontname") or "", bold),
            )
        )
    return out


def _cached_bold(fontname: str, cache: dict[str, bool]) -> bool:
    if fontname not in cache:
        cache[fontname] = is_bold_font(fontname)
    return cache[fontname]


def is_bold_font(fontname: str) -> bool:
    """Bold from the font name, the only cue most producers leave (weights, '-Bd', CMBX)."""
    name = fontname.split("+", 1)[-1]
    return bool(_BOLD_WORD.search(name) or _BOLD_CODE.search(name))


# ----------------------------------------------------------------------------- rows


def cluster_rows(glyphs: Sequence[Glyph]) -> list[list[Glyph]]:
    """Group glyphs into rows by baseline (sorted sweep, tolerance relative to size)."""
    rows: list[list[Glyph]] = []
    ref = size = 0.0
    for glyph in sorted(glyphs, key=lambda g: g.base):
        if rows and glyph.base - ref <= ROW_TOL * max(glyph.size, size):
            row = rows[-1]
            row.append(glyph)
            ref += (glyph.base - ref) / len(row)
            size = max(size, glyph.size)
        else:
            rows.append([glyph])
            ref, size = glyph.base, glyph.size
    return rows


def _row_stats(row: Sequence[Glyph]) -> tuple[float, float, float, float]:
    """(size, baseline, x0, x1) of a row, using its dominant font size."""
    size = statistics.median(g.size for g in row)
    return size, _main_baseline(row, size), min(g.x0 for g in row), max(g.x1 for g in row)


def _main_baseline(glyphs: Sequence[Glyph], size: float) -> float:
    """Baseline of the full-size glyphs (superscripts and subscripts excluded)."""
    main = [g.base for g in glyphs if g.size >= SUP_SIZE * size] or [g.base for g in glyphs]
    return statistics.median(main)


def merge_satellites(rows: list[list[Glyph]]) -> list[list[Glyph]]:
    """Attach rows of small raised or lowered glyphs (footnote markers) to their line.

    A marker drawn 1/3 em above the baseline falls outside the row tolerance, so it first
    forms a row of its own; it belongs to a neighbouring row whose glyphs are bigger and
    whose text height it overlaps, and which spans it horizontally.
    """
    stats = [_row_stats(row) for row in rows]
    keep = [True] * len(rows)
    for i, row in enumerate(rows):
        size = stats[i][0]
        near = [stats[j][0] for j in range(max(0, i - 2), min(len(rows), i + 3)) if j != i]
        if not any(g.size <= SUP_SIZE * max(near, default=0.0) for g in row):
            continue  # nothing small enough here to be a marker of a neighbouring line
        for piece in _split_at_gaps(row, 2.0 * size):
            host = _satellite_host(piece, i, rows, stats, keep)
            if host is None:
                continue
            rows[host].extend(piece)
            moved = {id(g) for g in piece}
            row[:] = [g for g in row if id(g) not in moved]
        keep[i] = bool(row)
    return [row for row, ok in zip(rows, keep, strict=True) if ok and row]


def _satellite_host(
    piece: list[Glyph],
    i: int,
    rows: list[list[Glyph]],
    stats: list[tuple[float, float, float, float]],
    keep: list[bool],
) -> int | None:
    p_size, p_base, p_x0, p_x1 = _row_stats(piece)
    for j in (i + 1, i + 2, i - 1, i - 2):
        if j < 0 or j >= len(rows) or not keep[j] or not rows[j] or j == i:
            continue
        size, base, x0, x1 = stats[j]
        if (
            p_size <= SUP_SIZE * size
            and base - 0.75 * size <= p_base <= base + 0.45 * size
            and p_x0 >= x0 - 2 * size
            and p_x1 <= x1 + 2 * size
        ):
            return j
    return None


def _split_at_gaps(glyphs: Sequence[Glyph], gap: float) -> list[list[Glyph]]:
    pieces: list[list[Glyph]] = []
    for glyph in sorted(glyphs, key=lambda g: g.x0):
        if pieces and glyph.x0 - max(g.x1 for g in pieces[-1]) <= gap:
            pieces[-1].append(glyph)
        else:
            pieces.append([glyph])
    return pieces


def split_words(glyphs: Sequence[Glyph]) -> list[list[Glyph]]:
    """Words from horizontal gaps; overprinted duplicates (fake bold) are dropped."""
    words: list[list[Glyph]] = []
    previous: Glyph | None = None
    for glyph in sorted(glyphs, key=lambda g: (g.x0, g.base)):
        if previous is not None and _is_overprint(previous, glyph):
            continue
        gap = glyph.x0 - previous.x1 if previous is not None else 0.0
        if previous is None or gap > SPACE_GAP * max(glyph.size, previous.size):
            words.append([glyph])
        else:
            words[-1].append(glyph)
        previous = glyph
    return words


def _is_overprint(a: Glyph, b: Glyph) -> bool:
    width = max(a.x1 - a.x0, 0.1 * a.size)
    return a.text == b.text and abs(b.x0 - a.x0) < 0.3 * width and abs(b.base - a.base) < 0.2 * a.size


def line_text(glyphs: Sequence[Glyph]) -> str:
    """Words joined by single spaces; small raised digits become ¹²³ glued to their word."""
    size = statistics.median(g.size for g in glyphs)
    base = _main_baseline(glyphs, size)
    words = []
    for word in split_words(glyphs):
        parts = []
        for glyph in word:
            raised = glyph.size <= SUP_SIZE * size and base - glyph.base >= SUP_RAISE * size
            text = glyph.text.translate(_SUPERSCRIPT_DIGITS) if raised else glyph.text
            parts.append(text)
        words.append("".join(parts))
    if words and _is_unknown_glyph(words[0]) and len(words) > 1:
        words[0] = _BULLET_LIKE  # a symbol-font bullet that has no Unicode mapping
    return " ".join(w for w in (_drop_cids(w) for w in words) if w)


def _is_unknown_glyph(word: str) -> bool:
    return bool(re.fullmatch(r"\(cid:\d+\)|[\ue000-\uf8ff]", word))


def _drop_cids(word: str) -> str:
    return re.sub(r"\(cid:\d+\)", "", word)


# ----------------------------------------------------------------------------- columns


def row_box(glyphs: Sequence[Glyph], gutter_gap: float) -> RowBox:
    """Reduce a row to runs of words separated by less than ``gutter_gap``."""
    segments: list[tuple[float, float, int]] = []
    for word in split_words(glyphs):
        x0, x1 = min(g.x0 for g in word), max(g.x1 for g in word)
        if segments and x0 - segments[-1][1] < gutter_gap:
            s0, s1, n = segments[-1]
            segments[-1] = (s0, max(s1, x1), n + 1)
        else:
            segments.append((x0, x1, 1))
    return RowBox(top=min(g.top for g in glyphs), bottom=max(g.bottom for g in glyphs), segments=segments)


def find_gutters(rows: Sequence[RowBox], size: float, step: float = 2.0) -> list[float]:
    """x positions of column gutters: vertical strips that no row crosses over a tall
    stretch of the page, with running text on both sides. One-column pages give []."""
    spans = [s for row in rows for s in row.segments]
    if len(rows) < 2 * GUTTER_MIN_ROWS or not spans:
        return []
    left = min(s[0] for s in spans)
    right = max(s[1] for s in spans)
    width = right - left
    text_height = max(r.bottom for r in rows) - min(r.top for r in rows)
    if width < 12 * size or text_height <= 0:
        return []
    ordered = sorted(rows, key=lambda r: r.top)
    hits: list[float] = []
    x = left + 0.15 * width
    while x <= right - 0.15 * width:
        if _is_gutter_at(ordered, x, text_height):
            hits.append(x)
        x += step
    return [
        _best_position(group, ordered)
        for group in _group_hits(hits, step)
        if group[-1] - group[0] + step >= GUTTER_MIN_WIDTH * size
    ]


def _is_gutter_at(rows: Sequence[RowBox], x: float, text_height: float) -> bool:
    """True when some run of consecutive rows not crossing ``x`` is tall and two-sided."""
    run: list[RowBox] = []
    for row in [*rows, None]:
        if row is not None and not any(s0 < x < s1 for s0, s1, _ in row.segments):
            run.append(row)
            continue
        if run and _two_sided_run(run, x, text_height):
            return True
        run = []
    return False


def _two_sided_run(run: Sequence[RowBox], x: float, text_height: float) -> bool:
    if run[-1].bottom - run[0].top < GUTTER_MIN_HEIGHT * text_height:
        return False
    left = [n for row in run if (n := sum(s[2] for s in row.segments if s[1] <= x))]
    right = [n for row in run if (n := sum(s[2] for s in row.segments if s[0] >= x))]
    if min(len(left), len(right)) < 1 or max(len(left), len(right)) < GUTTER_MIN_ROWS:
        return False
    # Running text has several words per line on each side; a two-column table does not.
    return min(statistics.fmean(left), statistics.fmean(right)) >= GUTTER_MIN_WORDS


def _group_hits(hits: Sequence[float], step: float) -> list[list[float]]:
    """Contiguous runs of gutter positions."""
    groups: list[list[float]] = []
    for x in hits:
        if groups and x - groups[-1][-1] <= 1.5 * step:
            groups[-1].append(x)
        else:
            groups.append([x])
    return groups


def _best_position(group: Sequence[float], rows: Sequence[RowBox]) -> float:
    """Where in a run of gutter positions the fewest rows cross (an indented list beside the
    gutter widens the run on one side only), centred among the equally good ones."""
    crossings = [sum(_crosses(row, (x,)) for row in rows) for x in group]
    fewest = min(crossings)
    best = [x for x, n in zip(group, crossings, strict=True) if n == fewest]
    return (best[0] + best[-1]) / 2


def lines_from_glyphs(
    glyphs: Sequence[Glyph], page_no: int, page_height: float, marks: Sequence[Mark] = ()
) -> list[PageLine]:
    """One page's glyphs -> lines in reading order (full-width bands, then column by column)."""
    if not glyphs:
        return []
    free_marks = list(marks)
    rows = merge_satellites(cluster_rows(glyphs))
    size = statistics.median(g.size for g in glyphs)
    boxes = [row_box(row, GUTTER_GAP * size) for row in rows]
    gutters = find_gutters(boxes, size)
    n_columns = len(gutters) + 1
    lines: list[PageLine] = []
    for band_no, (spanning, band_rows) in enumerate(_bands(rows, boxes, gutters)):
        for column, column_rows in _columns(band_rows, gutters, spanning):
            for glyph_row in column_rows:
                row = attach_mark(glyph_row, free_marks) if free_marks else glyph_row
                text = line_text(row)
                if not text:
                    continue
                lines.append(PageLine(row, text, page_no, band_no, column, n_columns, page_height))
    return lines


def _crosses(box: RowBox, gutters: Sequence[float]) -> bool:
    return any(s0 < x < s1 for x in gutters for s0, s1, _ in box.segments)


def _bands(
    rows: list[list[Glyph]], boxes: list[RowBox], gutters: Sequence[float]
) -> list[tuple[bool, list[list[Glyph]]]]:
    """Split the page top-down into full-width bands and column bands."""
    if not gutters:
        return [(False, sorted(rows, key=lambda r: _row_stats(r)[1]))]
    order = sorted(range(len(rows)), key=lambda i: boxes[i].top)
    bands: list[tuple[bool, list[list[Glyph]]]] = []
    for i in order:
        spanning = _crosses(boxes[i], gutters)
        if bands and bands[-1][0] == spanning:
            bands[-1][1].append(rows[i])
        else:
            bands.append((spanning, [rows[i]]))
    return bands


def _columns(
    rows: list[list[Glyph]], gutters: Sequence[float], spanning: bool
) -> list[tuple[int, list[list[Glyph]]]]:
    """Rows of one band cut at the gutters, each column read top to bottom."""
    if spanning or not gutters:
        return [(0, sorted(rows, key=lambda r: _row_stats(r)[1]))]
    columns: dict[int, list[list[Glyph]]] = defaultdict(list)
    for row in rows:
        parts: dict[int, list[Glyph]] = defaultdict(list)
        for glyph in row:
            parts[bisect_right(gutters, (glyph.x0 + glyph.x1) / 2)].append(glyph)
        for column, part in parts.items():
            columns[column].append(part)
    return [(column, sorted(columns[column], key=lambda r: _row_stats(r)[1])) for column in sorted(columns)]


# ----------------------------------------------------------------------------- text layer


def _check_text_layer(pages: Sequence[_PageResult], min_chars_per_page: int) -> list[str]:
    """Refuse scans and garbage text layers; note scanned pages among text pages. "Image-only"
    is said only when no page has any text: a PDF of a few words is read as it is."""
    minimum = max(1, min_chars_per_page)
    if not any(p.texts for p in pages):
        if any(p.off_page for p in pages):
            raise IngestError("no visible text: the PDF's text layer lies outside its pages")
        if not any(p.has_graphics for p in pages):
            raise IngestError("blank PDF: no text and no images on any page")
        if not any(p.has_images for p in pages):
            raise IngestError("no text layer: the pages hold only drawn shapes (text drawn as outlines?)")
        raise IngestError("image-only PDF: no text layer on any page; run OCR (for example ocrmypdf) first")
    problem = text_layer_problem([t for p in pages for t in p.texts])
    if problem:
        raise IngestError(problem)
    scanned = [str(n) for n, p in enumerate(pages, start=1) if not p.texts and p.has_images]
    sparse = [
        f"{n} ({len(p.texts)} characters)"
        for n, p in enumerate(pages, start=1)
        if 0 < len(p.texts) < minimum and p.has_images
    ]
    notes = []
    if scanned:
        notes.append(f"pages without a text layer (scans?): {', '.join(scanned)}; run OCR to read them")
    if sparse:
        notes.append(f"pages with little text beside images: {', '.join(sparse)}; if they are scans, run OCR")
    return notes


def text_layer_problem(texts: Sequence[str]) -> str | None:
    """Why a text layer cannot be trusted (undecodable or non-word glyphs), else None."""
    if not texts:
        return None
    n = len(texts)
    undecodable = sum(1 for t in texts if t.startswith("(cid:") or any(_is_undecodable_char(c) for c in t))
    message = "PDF text layer is unreadable (mostly undecodable glyphs); run OCR first"
    if undecodable >= UNREADABLE_SHARE * n:
        return message
    alnum = sum(1 for t in texts if any(c.isalnum() for c in t) and not t.startswith("(cid:"))
    if alnum < MIN_ALNUM_SHARE * n:
        return message
    ascii_letters = [c.lower() for t in texts for c in t if c.isascii() and c.isalpha()]
    if len(ascii_letters) >= 200:
        vowels = sum(c in "aeiouy" for c in ascii_letters) / len(ascii_letters)
        if vowels < 0.18:  # every language written in Latin letters has 30-50 % vowels
            return message
    return None


def _is_undecodable_char(ch: str) -> bool:
    code = ord(ch)
    return ch == "\ufffd" or 0xE000 <= code <= 0xF8FF or code < 0x20


# ----------------------------------------------------------------------------- furniture


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def is_page_number(text: str) -> bool:
    """ "3", "- 3 -", "Page 3", "3 of 10", "iii": a line that is only a page number."""
    return bool(_PAGE_NUMBER.match(text.strip()))


def remove_furniture(lines: list[PageLine], n_pages: int) -> tuple[list[PageLine], int]:
    """Drop running headers/footers and page numbers from the top and bottom bands."""
    zone = {id(line): _band_zone(line) for line in lines}
    pages_by_key: dict[tuple[str, str], set[int]] = defaultdict(set)
    for line in lines:
        if zone[id(line)]:
            pages_by_key[(zone[id(line)], _furniture_key(line.text))].add(line.page)
    needed = max(2, math.ceil(REPEAT_SHARE * n_pages))
    edge = {i for i in _edge_lines(lines) if zone[i]}
    running = _running_heads(lines, edge, n_pages)
    kept: list[PageLine] = []
    for line in lines:
        where = zone[id(line)]
        repeated = (
            bool(where) and n_pages >= 2 and len(pages_by_key[(where, _furniture_key(line.text))]) >= needed
        )
        numbered = id(line) in edge and is_page_number(line.text)
        if not (repeated or numbered or id(line) in running):
            kept.append(line)
    return kept, len(lines) - len(kept)


def _running_heads(lines: Sequence[PageLine], edge: set[int], n_pages: int) -> set[int]:
    """Headers whose text changes by chapter but carry the page number ("Chapter 2: Scope 7"):
    the number at the start or end minus the page index is the same on many pages."""
    offsets: dict[int, list[PageLine]] = defaultdict(list)
    for line in lines:
        if id(line) not in edge:
            continue
        number = re.match(r"^(\d{1,4})\s+\S|.*\S\s+(\d{1,4})$", line.text.strip())
        if number:
            value = int(number.group(1) or number.group(2))
            offsets[value - line.page].append(line)
    needed = max(3, math.ceil(0.3 * n_pages))
    return {
        id(line) for group in offsets.values() if len({ln.page for ln in group}) >= needed for line in group
    }


def _band_zone(line: PageLine) -> str:
    if line.top < BAND * line.page_height:
        return "top"
    if line.bottom > (1 - BAND) * line.page_height:
        return "bottom"
    return ""


def _edge_lines(lines: Sequence[PageLine]) -> set[int]:
    """ids of the two top-most and two bottom-most lines of each page."""
    by_page: dict[int, list[PageLine]] = defaultdict(list)
    for line in lines:
        by_page[line.page].append(line)
    edge: set[int] = set()
    for page_lines in by_page.values():
        ordered = sorted(page_lines, key=lambda ln: ln.top)
        edge.update(id(ln) for ln in ordered[:2] + ordered[-2:])
    return edge


# ----------------------------------------------------------------------------- measures


def _measure(lines: Sequence[PageLine]) -> _Measures:
    glyphs = [g for line in lines for g in line.glyphs]
    sizes = Counter(round(g.size, 1) for g in glyphs)
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    widths = [g.x1 - g.x0 for g in glyphs if abs(g.size - body) <= 0.05 * body and g.x1 > g.x0]
    char_width = statistics.fmean(widths) if widths else 0.5 * body
    measures = _Measures(body_size=body, char_width=char_width, pitch=_pitch(lines, body))
    body_lines: dict[tuple[int, int], list[PageLine]] = defaultdict(list)
    for line in lines:
        if abs(line.size - body) <= 0.15 * body:
            body_lines[line.group].append(line)
    for group in {line.group for line in lines}:
        members = body_lines.get(group) or [ln for ln in lines if ln.group == group]
        measures.left[group] = left_margin([ln.x0 for ln in members])
        ends = sorted(ln.x1 for ln in members)
        measures.right[group] = ends[int(0.95 * (len(ends) - 1))]
    return measures


def _pitch(lines: Sequence[PageLine], body: float) -> float:
    """Normal baseline-to-baseline distance of body text (a low quantile, so documents
    made mostly of one-line paragraphs still show their paragraph gaps)."""
    distances = []
    for prev, line in zip(lines, lines[1:], strict=False):
        same_flow = (prev.page, prev.band, prev.column) == (line.page, line.band, line.column)
        both_body = max(abs(prev.size - body), abs(line.size - body)) <= 0.15 * body
        distance = line.base - prev.base
        if same_flow and both_body and 0.5 * body < distance < 3 * body:
            distances.append(distance)
    if not distances:
        return 1.2 * body
    distances.sort()
    return distances[int(PITCH_QUANTILE * (len(distances) - 1))]


def left_margin(x0s: Sequence[float], tolerance: float = 1.5) -> float:
    """The left-most x where lines regularly start (a stray outdented line is ignored)."""
    values = sorted(x0s)
    if not values:
        return 0.0
    needed = max(2, math.ceil(0.1 * len(values))) if len(values) >= 2 else 1
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] - values[i - 1] > tolerance:
            if i - start >= needed:
                return values[start]
            start = i
    return values[0]


# ----------------------------------------------------------------------------- lines


def _to_lines(page_lines: list[PageLine]) -> list[Line]:
    """Apply the document's measures: indent, paragraph breaks, bold and relative size."""
    if not page_lines:
        return []
    measures = _measure(page_lines)
    lines: list[Line] = []
    previous: PageLine | None = None
    for line in page_lines:
        text = " ".join(normalize_chars(line.text).split())
        if not text:
            continue
        margin = measures.left.get(line.group, line.x0)
        indent = max(0.0, (line.x0 - margin) / measures.char_width)
        lines.append(
            Line(
                text=text,
                page=line.page,
                indent=round(indent, 2),
                blank_before=previous is None or _paragraph_break(previous, line, measures),
                bold=line.bold,
                size_ratio=round(line.size / measures.body_size, 2),
            )
        )
        previous = line
    return lines


def _paragraph_break(prev: PageLine, line: PageLine, m: _Measures) -> bool:
    """A vertical gap in the same flow, or a new page/column after a finished paragraph."""
    same_page = prev.page == line.page
    continues_down = same_page and (
        line.band > prev.band or (line.band == prev.band and line.column == prev.column)
    )
    size_change = abs(prev.size - line.size) > 0.1 * m.body_size
    if continues_down:
        expected = m.pitch * max(prev.size, line.size) / m.body_size
        return size_change or line.base - prev.base > PARA_GAP * expected
    if prev.bold != line.bold or size_change:
        return True  # a heading at the foot of a column does not run on into the text
    right = m.right.get(prev.group, prev.x1)
    full = prev.x1 >= right - FULL_WIDTH_CHARS * m.char_width
    return bool(_TERMINAL.search(prev.text.strip())) and not full
