"""Acronyms a memo defines for itself: "the Organization of American States (OAS)".

Finds the long form that an acronym in parentheses abbreviates (the Schwartz & Hearst 2003
algorithm: the acronym's letters, last to first, are found in order in the words before the
parenthesis, the first letter at the start of a word). Pure text functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFINITION = re.compile(r"\((?P<acronym>[A-Z][A-Za-z0-9&.\-]{1,11})\)")
MAX_EXTRA_WORDS = 5
EDGE_MARKS = " ,;:-*_`\"'“”‘’"  # punctuation and markup around a long form, not part of it


@dataclass(frozen=True)
class Definition:
    acronym: str
    long_form: str
    start: int  # character offsets of the long form in the text
    end: int


def is_acronym(text: str) -> bool:
    """Mostly capitals, at least two of them: "OAS", "CARICOM", "UNSCR", "G8"."""
    capitals = sum(c.isupper() for c in text)
    letters = sum(c.isalpha() for c in text)
    return capitals >= 2 and capitals >= letters / 2 and " " not in text


def long_form_for(acronym: str, before: str) -> tuple[int, int] | None:
    """Offsets in ``before`` of the shortest trailing phrase that ``acronym`` abbreviates,
    preferring one that starts with a capital ("Organization of American States", not
    "of American States")."""
    text = before.rstrip()
    words = list(re.finditer(r"\S+", text))
    letters = [c.lower() for c in acronym if c.isalnum()]
    if not words or not letters:
        return None
    window = min(len(letters) + MAX_EXTRA_WORDS, len(letters) * 2)
    first = words[max(0, len(words) - window)].start()
    candidate = text[first:]
    for capital_start in (True, False):
        start = _match_backwards(letters, candidate, capital_start)
        if start is not None:
            break
    else:
        return None
    if len(candidate[start:].split()) < 2 and len(letters) > 2:
        return None
    return first + start, len(text)


def _match_backwards(letters: list[str], candidate: str, capital_start: bool) -> int | None:
    s, i = len(letters) - 1, len(candidate) - 1
    while s >= 0:
        wanted = letters[s]
        while i >= 0 and not _letter_fits(candidate, i, wanted, s == 0, capital_start):
            i -= 1
        if i < 0:
            return None
        i -= 1
        s -= 1
    return candidate.rfind(" ", 0, i + 1) + 1


def _letter_fits(candidate: str, i: int, wanted: str, is_first: bool, capital_start: bool) -> bool:
    if candidate[i].lower() != wanted:
        return False
    if not is_first:
        return True
    at_word_start = i == 0 or not candidate[i - 1].isalnum()
    return at_word_start and (candidate[i].isupper() or not capital_start)


def find_definitions(text: str) -> list[Definition]:
    """Every "Long Form (ACR)" in ``text``."""
    found = []
    for match in DEFINITION.finditer(text):
        acronym = match["acronym"].rstrip(".")
        if not is_acronym(acronym):
            continue
        span = long_form_for(acronym, text[: match.start()])
        if span is None:
            continue
        start, end = span
        raw = text[start:end]
        long_form = raw.strip(EDGE_MARKS)
        start += len(raw) - len(raw.lstrip(EDGE_MARKS))
        if long_form.lower().startswith("the "):
            start, long_form = start + 4, long_form[4:]
        found.append(Definition(acronym, long_form, start, start + len(long_form)))
    return found
