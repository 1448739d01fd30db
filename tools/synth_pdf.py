"""Build PDFs from memo text with reportlab: real layouts and broken files.

Used by the tests (PDF round trips, bad files) and by ``make bench`` (a PDF corpus);
reportlab is a development dependency, so nothing at run time imports this. The layouts
imitate what word processors produce: running header, footer and page number on every
page, bold headings, bullets with a hanging indent, words broken at line ends with
different hyphen characters, a footnote marker drawn as a small raised digit, and a
two-column variant with a full-width title.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import reportlab
from reportlab.lib.pagesizes import letter
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

Block = tuple[str, str]  # (heading | paragraph | bullet | subbullet, text)

SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
SOFT_HYPHEN = "\u00ad"
HYPHEN = "\u2010"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
HEADER = "UN Issues Conference Memo"
FOOTER = "Draft — not for citation"

# ----------------------------------------------------------------------------- memo text


def memo_blocks(text: str) -> list[Block]:
    """Blank-line separated paragraphs of a memo .txt -> (kind, text) blocks.

    "- " starts a bullet, " - " a nested one; a short line standing alone without final
    punctuation is a heading; a paragraph of several short lines (a letterhead) keeps its
    line breaks as "\\n". Markdown emphasis, URL brackets and '#' are stripped.
    """
    blocks: list[Block] = []
    for chunk in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n")):
        plain: list[str] = []
        for raw in chunk.split("\n"):
            if not raw.strip():
                continue
            bullet = re.match(r"^( ?)- (.*)$", raw.rstrip())
            if bullet:
                _flush(plain, blocks)
                kind = "subbullet" if bullet.group(1) else "bullet"
                blocks.append((kind, _strip_markup(bullet.group(2))))
            else:
                plain.append(_strip_markup(raw))
        _flush(plain, blocks)
    return blocks


def _flush(plain: list[str], blocks: list[Block]) -> None:
    if not plain:
        return
    text = "\n".join(plain)
    kind = "heading" if len(plain) == 1 and _heading_like(text) else "paragraph"
    blocks.append((kind, text))
    plain.clear()


def _strip_markup(text: str) -> str:
    text = re.sub(r"<((?:https?|ftp)://[^>\s]+)>", r"\1", text)
    text = text.replace("**", "").replace("*", "")
    return text.strip().lstrip("#").strip()


def _heading_like(text: str) -> bool:
    return (
        len(text) <= 80
        and not re.search(r"[.,;:!?]$", text)
        and "://" not in text
        and not text.startswith("www.")
        and "@" not in text
    )


def is_footnote(text: str) -> bool:
    return bool(text) and text[0] in SUPERSCRIPTS


# ----------------------------------------------------------------------------- fonts


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str
    glyphs: str  # a TrueType font for bullets and hyphens the standard fonts lack
    has_u2010: bool
    standard: bool  # regular/bold are PDF standard fonts (WinAnsi only)


@lru_cache(maxsize=4)
def fonts(family: str = "sans") -> Fonts:
    """Helvetica (sans) or an embedded serif (DejaVu Serif, else Times) plus a glyph font."""
    dejavu = (DEJAVU / "DejaVuSans.ttf").is_file()
    if dejavu:
        _register("MemoGlyphs", DEJAVU / "DejaVuSans.ttf")
    else:
        _register("MemoGlyphs", Path(reportlab.__file__).parent / "fonts" / "Vera.ttf")
    if family == "serif" and (DEJAVU / "DejaVuSerif.ttf").is_file():
        _register("DejaVuSerif", DEJAVU / "DejaVuSerif.ttf")
        _register("DejaVuSerif-Bold", DEJAVU / "DejaVuSerif-Bold.ttf")
        return Fonts("DejaVuSerif", "DejaVuSerif-Bold", "MemoGlyphs", dejavu, False)
    if family == "serif":
        return Fonts("Times-Roman", "Times-Bold", "MemoGlyphs", dejavu, True)
    return Fonts("Helvetica", "Helvetica-Bold", "MemoGlyphs", dejavu, True)


def _register(name: str, path: Path) -> None:
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(path)))


_GLYPH_CHARS = {"•", HYPHEN, SOFT_HYPHEN}


def _runs(text: str, f: Fonts, bold: bool, size: float) -> list[tuple[str, str, float, float]]:
    """(text, font, size, rise) runs: superscript digits become small raised digits."""
    runs: list[tuple[str, str, float, float]] = []
    base_font = f.bold if bold else f.regular
    for ch in text:
        if ch in SUPERSCRIPTS:
            piece, key = str(SUPERSCRIPTS.index(ch)), (base_font, round(size * 0.6, 2), size * 0.35)
        elif ch in _GLYPH_CHARS and f.standard:
            piece, key = ch, (f.glyphs, size, 0.0)
        else:
            piece, key = ch, (base_font, size, 0.0)
        if runs and runs[-1][1:] == key:
            runs[-1] = (runs[-1][0] + piece, *key)
        else:
            runs.append((piece, *key))
    return runs


def text_width(text: str, f: Fonts, bold: bool, size: float) -> float:
    return sum(pdfmetrics.stringWidth(t, font, sz) for t, font, sz, _ in _runs(text, f, bold, size))


def _draw(c: canvas.Canvas, x: float, y: float, text: str, f: Fonts, bold: bool, size: float):
    for chunk, font, sz, rise in _runs(text, f, bold, size):
        c.setFont(font, sz)
        c.drawString(x, y + rise, chunk)
        x += pdfmetrics.stringWidth(chunk, font, sz)


# ----------------------------------------------------------------------------- wrapping


@dataclass
class Hyphenator:
    """Breaks long words at line ends, cycling the hyphen character used.

    Real compounds ("inter-ministerial") are broken at their own hyphen every other time
    one comes near a line end, even when they would fit, so both cases are exercised.
    """

    enabled: bool = True
    chars: Sequence[str] = ("-", SOFT_HYPHEN)
    count: int = 0
    compounds: int = 0
    log: list[tuple[str, str]] = field(default_factory=list)

    def next_char(self) -> str:
        char = self.chars[self.count % len(self.chars)]
        self.count += 1
        return char

    def split(self, word: str, room: Callable[[str], bool]) -> tuple[str, str] | None:
        """(head with hyphen, tail) such that ``room(head)`` holds, or None."""
        if not self.enabled:
            return None
        compound = re.fullmatch(r"([A-Za-z]{2,}(?:-[A-Za-z]+)*-)([A-Za-z]{2,}\W*)", word)
        if compound:
            head, tail = compound.groups()
            if room(head):
                self.log.append((head, tail))
                return head, tail
            return None
        core = re.fullmatch(r"([A-Za-z]{6,})(\W*)", word)
        if not core or word.isupper():
            return None
        letters, trail = core.groups()
        hyphen = self.chars[self.count % len(self.chars)]
        for cut in range(len(letters) - 3, 1, -1):
            if _syllable_cut(letters, cut) and room(letters[:cut] + hyphen):
                self.next_char()
                self.log.append((letters[:cut] + hyphen, letters[cut:] + trail))
                return letters[:cut] + hyphen, letters[cut:] + trail
        return None

    def force_compound(self, word: str) -> bool:
        """Every other compound near a line end is broken at its hyphen anyway."""
        if not self.enabled or not re.fullmatch(r"[A-Za-z]{2,}(?:-[A-Za-z]+)+\W*", word):
            return False
        self.compounds += 1
        return self.compounds % 2 == 1


def _syllable_cut(word: str, cut: int) -> bool:
    """A rough syllable boundary: between two consonants, or vowel | consonant-vowel."""
    vowels = "aeiouyAEIOUY"
    before, at, after = word[cut - 1], word[cut], word[cut + 1]
    if before not in vowels and at not in vowels:
        return True
    return before in vowels and at not in vowels and after in vowels


def wrap(text: str, width: float, measure: Callable[[str], float], hyph: Hyphenator) -> list[str]:
    """Greedy line filling with hyphenation; over-long tokens (URLs) break after '/'."""
    lines: list[str] = []
    current = ""
    words = text.split()
    i = 0
    while i < len(words):
        word = words[i]
        candidate = f"{current} {word}" if current else word
        fits = measure(candidate) <= width
        nearly_full = current and measure(current) > 0.7 * width
        if fits and not (nearly_full and hyph.force_compound(word)):
            current, i = candidate, i + 1
            continue
        prefix = f"{current} " if current else ""

        def fits_after(head: str, prefix: str = prefix) -> bool:
            return measure(prefix + head) <= width

        split = hyph.split(word, fits_after)
        if split:
            lines.append(prefix + split[0])
            current, words[i] = "", split[1]
            continue
        if fits:
            current, i = candidate, i + 1
        elif current:
            lines.append(current)
            current = ""
        else:
            head, tail = _break_token(word, width, measure)
            lines.append(head)
            words[i] = tail
            if not tail:
                i += 1
    if current:
        lines.append(current)
    return lines


def _break_token(word: str, width: float, measure: Callable[[str], float]) -> tuple[str, str]:
    cuts = [m.end() for m in re.finditer(r"[/?&=]", word)] + list(range(1, len(word)))
    best = max((c for c in cuts if measure(word[:c]) <= width), default=len(word))
    return word[:best], word[best:]


# ----------------------------------------------------------------------------- page flow


@dataclass
class Frame:
    x: float
    width: float
    top: float
    bottom: float


class Flow:
    """Fills frames (columns) top to bottom, page after page, drawing furniture per page."""

    def __init__(self, c: canvas.Canvas, f: Fonts, frames: list[Frame], furniture):
        self.c, self.f, self.frames, self.furniture = c, f, frames, furniture
        self.page, self.k = 1, 0
        self.y = frames[0].top
        self.fresh = True

    @property
    def frame(self) -> Frame:
        return self.frames[self.k]

    def next_frame(self) -> None:
        self.k += 1
        if self.k >= len(self.frames):
            self.new_page()
        else:
            self.y, self.fresh = self.frame.top, True

    def new_page(self) -> None:
        self.furniture(self.c, self.page)
        self.c.showPage()
        self.page, self.k = self.page + 1, 0
        self.y, self.fresh = self.frames[0].top, True

    def gap(self, height: float) -> None:
        if not self.fresh:
            self.y -= height

    def ensure(self, height: float) -> None:
        if self.y - height < self.frame.bottom and not self.fresh:
            self.next_frame()

    def line(
        self,
        dx: float,
        text: str,
        bold: bool,
        size: float,
        leading: float,
        marker: tuple[float, str] | None = None,
        justify: bool = False,
    ) -> None:
        """One line at ``dx`` from the frame's left; ``marker`` = (dx, bullet glyph);
        ``justify`` stretches the word spaces so the line reaches the frame's right edge."""
        self.ensure(leading)
        self.y -= leading
        x = self.frame.x + dx
        words = text.split(" ")
        if justify and len(words) > 1:
            natural = text_width(text, self.f, bold, size)
            space = text_width(" ", self.f, bold, size)
            extra = max(0.0, self.frame.width - dx - natural) / (len(words) - 1)
            for word in words:
                _draw(self.c, x, self.y, word, self.f, bold, size)
                x += text_width(word, self.f, bold, size) + space + extra
        else:
            _draw(self.c, x, self.y, text, self.f, bold, size)
        if marker:
            _draw(self.c, self.frame.x + marker[0], self.y, marker[1], self.f, bold, size)
        self.fresh = False

    def finish(self) -> None:
        self.furniture(self.c, self.page)
        self.c.save()


@dataclass(frozen=True)
class Style:
    size: float = 10.5
    leading: float = 13.5
    heading_size: float = 12.0
    para_gap: float = 8.0
    heading_gap: float = 12.0
    bullet_dx: tuple[float, float] = (18.0, 36.0)  # marker x, text x (from the frame's left)
    sub_dx: tuple[float, float] = (54.0, 72.0)
    footnote_size: float = 8.0
    justify: bool = False


def _render_blocks(
    flow: Flow, blocks: Sequence[Block], style: Style, hyph: Hyphenator, footnotes_at_bottom: bool
) -> None:
    f = flow.f
    previous = ""
    for kind, text in blocks:
        if kind == "heading":
            _heading(flow, text, style)
        elif kind in ("bullet", "subbullet"):
            if previous not in ("bullet", "subbullet"):
                flow.gap(style.para_gap)
            marker_dx, text_dx = style.bullet_dx if kind == "bullet" else style.sub_dx
            marker = "•" if kind == "bullet" else "–"
            lines = _wrap_for(f, text, flow.frame.width - text_dx, False, style.size, hyph)
            for n, line in enumerate(lines):
                flow.line(
                    text_dx,
                    line,
                    False,
                    style.size,
                    style.leading,
                    marker=(marker_dx, marker) if n == 0 else None,
                    justify=style.justify and n < len(lines) - 1,
                )
        elif is_footnote(text) and footnotes_at_bottom:
            _footnote_at_bottom(flow, text, style, hyph)
        else:
            size = style.footnote_size if is_footnote(text) else style.size
            leading = style.leading * size / style.size
            flow.gap(style.para_gap)
            for part in text.split("\n"):
                lines = _wrap_for(f, part, flow.frame.width, False, size, hyph)
                for n, line in enumerate(lines):
                    flow.line(0, line, False, size, leading, justify=style.justify and n < len(lines) - 1)
        previous = kind


def _wrap_for(f: Fonts, text: str, width: float, bold: bool, size: float, hyph: Hyphenator):
    return wrap(text, width, lambda s: text_width(s, f, bold, size), hyph)


def _heading(flow: Flow, text: str, style: Style) -> None:
    size = style.heading_size
    leading = style.leading * size / style.size
    lines = wrap(
        text, flow.frame.width, lambda s: text_width(s, flow.f, True, size), Hyphenator(enabled=False)
    )
    flow.gap(style.heading_gap)
    flow.ensure(leading * len(lines) + 3 * style.leading)  # keep with the next lines
    for line in lines:
        flow.line(0, line, True, size, leading)
    flow.y -= style.para_gap * 0.5


def _footnote_at_bottom(flow: Flow, text: str, style: Style, hyph: Hyphenator) -> None:
    """Footnote at the foot of the current page, then a page break (keeps the text order)."""
    size = style.footnote_size
    leading = style.leading * size / style.size
    frame = flow.frame
    lines = _wrap_for(flow.f, text, frame.width, False, size, hyph)
    height = leading * len(lines) + 6
    if flow.y - height < frame.bottom:
        flow.new_page()
    y = frame.bottom + height
    flow.c.setLineWidth(0.5)
    flow.c.line(frame.x, y, frame.x + 144, y)
    for line in lines:
        y -= leading
        _draw(flow.c, frame.x, y, line, flow.f, False, size)
    flow.new_page()


# ----------------------------------------------------------------------------- builders


def _hyphenator(f: Fonts, hyphenate: bool) -> Hyphenator:
    chars = ("-", SOFT_HYPHEN, HYPHEN) if f.has_u2010 else ("-", SOFT_HYPHEN)
    return Hyphenator(enabled=hyphenate, chars=chars)


def build_one_column_pdf(
    blocks: Sequence[Block],
    out_path: Path,
    *,
    header: str = HEADER,
    footer: str = FOOTER,
    hyphenate: bool = True,
    encrypt: str | StandardEncryption | None = None,
) -> Hyphenator:
    """Letter page, Helvetica 10.5 pt, header/footer/page number; returns the hyphenator
    (its ``log`` lists the words broken at line ends)."""
    f = fonts("sans")
    width, height = letter
    c = canvas.Canvas(str(out_path), pagesize=letter, encrypt=encrypt, invariant=1)

    def furniture(cv: canvas.Canvas, page: int) -> None:
        _draw(cv, 72, height - 42, header, f, False, 9)
        _draw(cv, 72, 50, footer, f, False, 8)
        label = f"- {page} -"
        _draw(cv, (width - text_width(label, f, False, 9)) / 2, 34, label, f, False, 9)

    flow = Flow(c, f, [Frame(72, width - 144, height - 72, 80)], furniture)
    hyph = _hyphenator(f, hyphenate)
    _render_blocks(flow, blocks, Style(), hyph, footnotes_at_bottom=True)
    flow.finish()
    return hyph


def build_two_column_pdf(
    blocks: Sequence[Block],
    out_path: Path,
    *,
    header: str = HEADER,
    hyphenate: bool = True,
    n_title_blocks: int | None = None,
) -> Hyphenator:
    """Title blocks (up to the first heading) full width on page 1, the rest in two
    serif columns with a 24 pt gutter; page number centred under the gutter."""
    f = fonts("serif")
    width, height = letter
    c = canvas.Canvas(str(out_path), pagesize=letter, invariant=1)
    if n_title_blocks is None:
        first_heading = next((i for i, (k, _) in enumerate(blocks) if k == "heading"), -1)
        n_title_blocks = first_heading + 1 if 0 <= first_heading < 3 else 0

    def furniture(cv: canvas.Canvas, page: int) -> None:
        _draw(cv, width - 54 - text_width(header, f, False, 8.5), height - 36, header, f, False, 8.5)
        label = f"Page {page}"
        _draw(cv, (width - text_width(label, f, False, 9)) / 2, 30, label, f, False, 9)

    style = Style(
        size=10,
        leading=12.5,
        heading_size=11,
        para_gap=6,
        heading_gap=9,
        bullet_dx=(6, 16),
        sub_dx=(24, 34),
        footnote_size=7.5,
        justify=True,
    )
    hyph = _hyphenator(f, hyphenate)
    full = Frame(54, width - 108, height - 60, 60)
    flow = Flow(c, f, [full], furniture)
    for kind, text in blocks[:n_title_blocks]:
        if kind == "heading":
            size = 16
            flow.gap(6)
            flow.line((full.width - text_width(text, f, True, size)) / 2, text, True, size, 20)
        else:
            flow.gap(4)
            for line in text.split("\n"):
                flow.line(0, line, False, 9, 11)
    top = flow.y - 18 if n_title_blocks else height - 60
    col = (full.width - 24) / 2
    flow.frames = [Frame(54, col, top, 60), Frame(54 + col + 24, col, top, 60)]
    flow.k, flow.y, flow.fresh = 0, top, True
    rest = [Frame(54, col, height - 60, 60), Frame(54 + col + 24, col, height - 60, 60)]

    original = flow.new_page

    def new_page() -> None:
        original()
        flow.frames = rest

    flow.new_page = new_page  # type: ignore[method-assign]
    _render_blocks(flow, blocks[n_title_blocks:], style, hyph, footnotes_at_bottom=False)
    flow.finish()
    return hyph


# ----------------------------------------------------------------------------- bad files


def write_truncated_pdf(src_pdf: Path, out: Path, keep: float = 0.6) -> None:
    """The first part of a good PDF, as left by an interrupted download."""
    data = Path(src_pdf).read_bytes()
    Path(out).write_bytes(data[: int(len(data) * keep)])


def write_encrypted_pdf(blocks: Sequence[Block], out: Path, password: str = "secret") -> None:
    build_one_column_pdf(blocks, out, encrypt=password)


def write_empty_password_encrypted_pdf(blocks: Sequence[Block], out: Path) -> None:
    """Encrypted (permissions only) with an empty user password: opens without one."""
    encryption = StandardEncryption("", ownerPassword="owner-secret", canModify=0)
    build_one_column_pdf(blocks, out, encrypt=encryption)


def write_zero_byte(out: Path) -> None:
    Path(out).write_bytes(b"")


def write_image_only_pdf(out: Path) -> None:
    """A scanned-looking page: a raster image and shapes, no text layer."""
    c = canvas.Canvas(str(out), pagesize=letter, invariant=1)
    try:
        from PIL import Image
        from reportlab.lib.utils import ImageReader

        rng = random.Random(1)
        image = Image.new("L", (120, 160), 255)
        image.putdata([255 if rng.random() > 0.1 else 0 for _ in range(120 * 160)])
        c.drawImage(ImageReader(image), 72, 200, width=468, height=520)
    except ImportError:  # shapes alone still make a page without text
        pass
    for n in range(12):
        c.rect(72, 150 - n * 8, 400 - n * 20, 4, fill=1)
    c.circle(500, 700, 30, fill=0)
    c.showPage()
    c.save()


def write_garbage_text_pdf(out: Path, seed: int = 7, glyphs: str = "§¶†‡°±×÷¤¦¬#%&*+=<>@^~|/[]{}"):
    """A text layer of random non-word glyphs, like a broken font encoding. With
    ``glyphs="•"`` every glyph is one pdfminer cannot map to Unicode ("(cid:127)")."""
    rng = random.Random(seed)
    c = canvas.Canvas(str(out), pagesize=letter, invariant=1)
    c.setFont("Helvetica", 10)
    for row in range(50):
        words = ["".join(rng.choice(glyphs) for _ in range(rng.randint(2, 8))) for _ in range(12)]
        c.drawString(72, 720 - row * 13, " ".join(words))
    c.showPage()
    c.save()


def write_memo_pdf(text: str, out_path: Path, *, two_columns: bool = False) -> int:
    """Render a memo's text as a PDF; returns the number of pages (for the benchmark)."""
    blocks = memo_blocks(text)
    if two_columns:
        build_two_column_pdf(blocks, out_path)
    else:
        build_one_column_pdf(blocks, out_path)
    import pypdfium2

    document = pypdfium2.PdfDocument(str(out_path))
    try:
        return len(document)
    finally:
        document.close()
