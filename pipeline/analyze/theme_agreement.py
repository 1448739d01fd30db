"""Agreement of the themes with a reader's coding (e.g. tests/gold/dev/themes.json).

A coding lists units by document and text with the reader's theme code. Each coded unit is
found among the themed units of its document (same text, else the unit sharing most of its
words), and the two partitions are compared by adjusted mutual information (AMI): 1 = the
same grouping, 0 = no more alike than chance. Theme names play no part: only which units go
together.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

UNMATCHED = "(none)"
MIN_WORD_OVERLAP = 0.5  # Jaccard of words below which a coded unit is not found


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(text).lower()).strip()


def match_coded(unit_themes: pd.DataFrame, coded: Sequence[dict]) -> list[tuple[object, str]]:
    """(index in ``unit_themes`` or None, code) per coded unit; ``unit_themes`` has
    ``doc_id`` and ``text`` columns, a coded unit ``doc`` (file name), ``text``, ``theme``."""
    texts = {i: _words(t) for i, t in zip(unit_themes.index, unit_themes["text"], strict=True)}
    by_doc: dict[str, list] = {}
    for i, doc in zip(unit_themes.index, unit_themes["doc_id"].astype(str), strict=True):
        by_doc.setdefault(doc, []).append(i)
    found = []
    for item in coded:
        want = _words(item["text"])
        candidates = by_doc.get(Path(str(item["doc"])).stem, by_doc.get(str(item["doc"]), []))
        exact = [i for i in candidates if texts[i] == want]
        if exact:
            found.append((exact[0], str(item["theme"])))
            continue
        words = set(want.split())
        best, best_score = None, 0.0
        for i in candidates:
            other = set(texts[i].split())
            score = len(words & other) / max(1, len(words | other))
            if score > best_score:
                best, best_score = i, score
        found.append((best if best_score >= MIN_WORD_OVERLAP else None, str(item["theme"])))
    return found


def coded_agreement(unit_themes: pd.DataFrame, coded: Sequence[dict]) -> tuple[float, int]:
    """(AMI between the themes and the reader's codes, number of coded units found).
    A coded unit not found or without a theme counts as one group of its own."""
    from sklearn.metrics import adjusted_mutual_info_score

    matched = match_coded(unit_themes, coded)
    themes = unit_themes["theme"].astype(str)
    predicted = [themes[i] if i is not None and themes[i] else UNMATCHED for i, _ in matched]
    ami = adjusted_mutual_info_score([code for _, code in matched], predicted)
    return float(ami), sum(i is not None for i, _ in matched)
