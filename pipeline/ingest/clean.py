"""Character clean-up and line joining, shared by every reader.

Why not NFKC: it would turn footnote markers ("Note¹") into digits glued to the word
("Note1") and straighten curly quotes. We map only what is known to be noise.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

_CHAR_MAP = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
        "\u00a0": " ",  # no-break space
        "\u2007": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u2002": " ",
        "\u2003": " ",
        "\u3000": " ",
        "\t": " ",
        "\u200b": None,  # zero-width space, joiners, BOM
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,
        "\ufeff": None,
        "\u2011": "-",  # non-breaking hyphen is an ordinary hyphen
        "\u2212": "-",  # minus sign in running text
    }
)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r" {2,}")

# Line-end hyphens: ASCII hyphen, U+2010 HYPHEN, soft hyphen.
BREAK_HYPHENS = "-\u2010\u00ad"
_WORD_END = re.compile(r"([A-Za-zÀ-ÿ][\w'’]*)[" + BREAK_HYPHENS + r"]$")
_WORD_START = re.compile(r"^([\w'’]+)")
# U+2010 and the soft hyphen only ever join word parts: set apart from the word by a wide
# glyph gap at a line end ("implemen ‐"), they still mark a broken word
_SPACED_BREAK = re.compile("(?<=[A-Za-zÀ-ÿ]) ([\u2010\u00ad])$")


def normalize_chars(text: str) -> str:
    """Ligatures and odd spaces to plain text; curly quotes, soft hyphens and ¹ kept."""
    text = unicodedata.normalize("NFC", text.translate(_CHAR_MAP))
    text = _CONTROL.sub("", text)
    return text


def squeeze_spaces(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def strip_soft_hyphens(text: str) -> str:
    """A soft hyphen inside a line is invisible; remove it from the unit text."""
    return text.replace("\u00ad", "")


@lru_cache(maxsize=1)
def _lexicon() -> frozenset[str]:
    """English words known to pyspellchecker's frequency list (loaded once)."""
    from spellchecker import SpellChecker

    return frozenset(SpellChecker(language="en").word_frequency.keys())


def word_counts(text: str) -> Counter[str]:
    """Lower-cased word and hyphenated-compound counts, for document-level evidence."""
    return Counter(m.group(0).lower() for m in re.finditer(r"[A-Za-zÀ-ÿ]+(?:-[A-Za-zÀ-ÿ]+)*", text))


def keep_line_end_hyphen(
    head: str,
    tail: str,
    hyphen: str,
    evidence: Counter[str],
    kept_prefixes: frozenset[str] = frozenset(),
) -> bool:
    """Decide whether ``head`` + hyphen + ``tail`` is a real compound or a broken word.

    Order of evidence: a soft hyphen is always a break; a capitalised or numeric
    continuation ("South-South", "1540-related") is a compound; then how the same word is
    written elsewhere in the document; then a hyphenating prefix ("non-"); then the
    English lexicon.
    """
    if hyphen == "\u00ad":
        return False
    if not tail or not tail[0].islower() or head[-1:].isdigit():
        return True
    joined = (head + tail).lower()
    compound = f"{head}-{tail}".lower()
    if evidence.get(compound, 0) != evidence.get(joined, 0):
        return evidence.get(compound, 0) > evidence.get(joined, 0)
    if head.lower() in kept_prefixes:
        return True
    lexicon = _lexicon()
    if joined in lexicon:
        return False
    return head.lower() in lexicon and tail.lower() in lexicon


_URL_TAIL = re.compile(r"(?:https?://|www\.)\S*$")
_URL_CONTINUATION = re.compile(r"^[/?&=#%_.~+-]|^[\w.-]*[/?&=#%]")
_NUMBER_BREAK = re.compile(r"\d-$")


def is_link_continuation(previous: str, line: str) -> bool:
    """The next line continues a web address the previous line ended with."""
    return bool(_URL_TAIL.search(previous)) and bool(_URL_CONTINUATION.match(line.strip()))


def join_lines(
    lines: list[str],
    evidence: Counter[str] | None = None,
    kept_prefixes: frozenset[str] = frozenset(),
) -> str:
    """Join the visual lines of one paragraph, repairing words and links broken at a line end."""
    evidence = evidence if evidence is not None else Counter()
    out = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if not out:
            out = line
            continue
        out = _SPACED_BREAK.sub(r"\1", out)
        end = _WORD_END.search(out)
        start = _WORD_START.match(line)
        if is_link_continuation(out, line):
            out = out + line  # a link wrapped in a narrow column
        elif _NUMBER_BREAK.search(out) and line[:1].isdigit():
            out = out + line  # "563-264-" + "1500": a number broken at its own hyphen
        elif end and start and out[-1] in BREAK_HYPHENS:
            hyphen = out[-1]
            head = end.group(1).split("-")[-1]
            if keep_line_end_hyphen(head, start.group(1), hyphen, evidence, kept_prefixes):
                out = out[:-1] + "-" + line
            else:
                out = out[:-1] + line
        else:
            out = out + " " + line
    return squeeze_spaces(strip_soft_hyphens(out))
