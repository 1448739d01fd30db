"""Structure written inside running text: a speaker's turn label and an enumerated list.

A transcript writes "Lee: Fund people." and a meeting summary writes "three steps: (a) ...;
(b) ...; (c) ...". The guidelines count the words after the label, and each enumerated item,
as units of their own; these pure functions find both so the unit builder can cut there.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

SPEAKER = re.compile(
    r"^(?P<label>[^\W\d_][\w.'’-]*(?: [^\W\d][\w.'’-]*){0,5}?(?:\s*\([^()]{1,80}\))?)"
    r"\s*:\s+(?P<rest>\S+\s+\S.*[.!?…][\"”’')\]]*)$",
    re.DOTALL,
)
_INLINE_MARKER = re.compile(
    r"(?<![\w(.])(?P<open>\()?(?P<value>[a-z]|[ivx]{1,4}|\d{1,2})(?P<close>[.)])(?=\s+\S)"
)
_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii", "xiv", "xv")
SERIES = {
    "letter": tuple("abcdefghijklmnopqrstuvwxyz"),
    "roman": _ROMAN,
    "number": tuple(str(n) for n in range(1, 100)),
}
_SEPARATOR_BEFORE = re.compile(r"(?:[;,:.]|\b(?:and|or|and/or))\s*$")
_TRAILING_LINK = re.compile(r"\s+\b(?:and|or|and/or)\s*$")
_LEAD_IN_END = re.compile(r"(?:^|[:—–])\s*$")
MIN_ITEM_WORDS = 2


# --------------------------------------------------------------------------- speakers


def label_and_rest(text: str) -> tuple[str, str] | None:
    """("Lee", "Fund people.") for "Lee: Fund people."; None when the text opens with no
    label of a name's shape (one to six words, no digits outside brackets) or what follows
    is no sentence ("Chair: Ambassador Lee" is a header line)."""
    found = SPEAKER.match(text.strip())
    if found is None:
        return None
    label = found.group("label").strip()
    if any(ch.isdigit() for ch in re.sub(r"\([^()]*\)", "", label)):
        return None
    return label, found.group("rest").strip()


def speaker_labels(openings: Iterable[str], roles: frozenset[str], not_speakers: frozenset[str]) -> set[str]:
    """The labels among the paragraph openings that name a speaker: those whose first word is
    a role ("Moderator", "Q"), and, in a dialogue (three or more labelled paragraphs, two or
    more labels, one of them a role or said twice), every label shaped like a name."""
    labels = []
    for text in openings:
        found = label_and_rest(text)
        if found and _first_word(found[0]) not in not_speakers:
            labels.append(found[0])
    counts = Counter(labels)
    has_role = any(_first_word(label) in roles for label in counts)
    dialogue = len(labels) >= 3 and len(counts) >= 2 and (has_role or max(counts.values()) >= 2)
    return {label for label in counts if dialogue or _first_word(label) in roles}


def _first_word(label: str) -> str:
    return label.split()[0].lower().rstrip(".")


# --------------------------------------------------------------------------- enumerations


@dataclass(frozen=True)
class InlineList:
    """A paragraph cut at its enumeration markers: the lead-in and (marker, item) pairs. The
    last item runs to the end of the paragraph: its first sentence is the item, the rest is
    running text (the caller splits sentences)."""

    lead_in: str
    items: list[tuple[str, str]]
    continues: bool = False  # the items continue the list item the text belongs to


def split_inline_list(text: str, after_marker: str = "") -> InlineList | None:
    """The first run of two or more consecutive markers ("i. ... ii. ...", "(a) ... (b) ...",
    "1) ... 2) ...") written inside ``text``, or None. A run opens the text, follows a colon
    or dash, or (bracketed markers only) follows a word; later markers follow a separator
    ("; ", ", and "). ``after_marker`` is the marker of the list item the text belongs to:
    "(a) X; (b) Y" continues from it. Every item has at least two words, so references
    such as "paragraphs (a) and (b)" stay whole."""
    candidates = list(_INLINE_MARKER.finditer(text))
    for start in range(len(candidates)):
        for series in SERIES.values():
            run = _run_from(text, candidates, start, series, after_marker)
            if run:
                return _cut(text, run, bool(after_marker) and _position(run[0], series) > 0)
    return None


def _run_from(
    text: str, candidates: list[re.Match[str]], start: int, series: tuple[str, ...], after_marker: str
) -> list[re.Match[str]] | None:
    first = candidates[start]
    style = (first.group("open"), first.group("close"))
    position = _position(first, series)
    continues = _continues(after_marker, style, series, position)
    if position != 0 and not continues:
        return None
    before = text[: first.start()]
    if not continues and not _LEAD_IN_END.search(before) and not (style[0] and style[1] == ")"):
        return None
    if continues and not _SEPARATOR_BEFORE.search(before):
        return None
    run = [first]
    for match in candidates[start + 1 :]:
        if (match.group("open"), match.group("close")) != style:
            continue
        if _position(match, series) != _position(run[-1], series) + 1:
            continue
        if not _SEPARATOR_BEFORE.search(text[run[-1].end() : match.start()]):
            continue
        run.append(match)
    if len(run) + continues < 2:
        return None
    items = [text[a.end() : b.start()] for a, b in zip(run, run[1:], strict=False)]
    items.append(text[run[-1].end() :])
    if any(len(_TRAILING_LINK.sub("", item).split()) < MIN_ITEM_WORDS for item in items):
        return None
    return run


def _position(match: re.Match[str], series: tuple[str, ...]) -> int:
    value = match.group("value")
    return series.index(value) if value in series else -2


def _continues(
    after_marker: str, style: tuple[str | None, str], series: tuple[str, ...], position: int
) -> bool:
    """The run's first marker is the successor of the list item's own marker."""
    own = _INLINE_MARKER.match(after_marker + " x") if after_marker else None
    if own is None or (own.group("open"), own.group("close")) != style:
        return False
    return position >= 1 and _position(own, series) == position - 1


def _cut(text: str, run: list[re.Match[str]], continues: bool) -> InlineList:
    items = []
    for match, following in zip(run, [*run[1:], None], strict=True):
        body = text[match.end() : following.start() if following else len(text)]
        items.append((match.group(0), _TRAILING_LINK.sub("", body.strip()).strip()))
    return InlineList(lead_in=text[: run[0].start()].strip(), items=items, continues=continues)
