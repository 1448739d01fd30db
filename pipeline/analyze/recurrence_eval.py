"""Scoring recurring-recommendation links against gold pairs, and fitting the decision rule.

Gold pairs (``recurring_recommendations`` of a gold JSON file) give the first words of the
earlier and of the later recommendation. A link is correct when its earlier text and its
later text hold those words (at the start, or at the start of a later sentence of a list
item). Used by ``pipeline.evaluate``, ``tools/fit_recurrence.py`` and the tests.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.analyze.recurrence import Rule, decide

# Where the rule's numbers are searched when it is fitted
THRESHOLDS = tuple(np.round(np.arange(0.05, 0.80, 0.01), 2).tolist())
MARGINS = (0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15)


def norm_text(text: str) -> str:
    """Lower case, straight quotes, single spaces: how gold prefixes are compared."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'")
    return " ".join(text.lower().split())


def load_gold_pairs(file: Path) -> list[tuple[str, str]]:
    """The (earlier prefix, later prefix) pairs of one gold JSON file ([] when it has none)."""
    data = json.loads(Path(file).read_text(encoding="utf-8"))
    pairs = data.get("recurring_recommendations") or []
    return [(str(a), str(b)) for a, b in pairs]


def _holds(text: str, prefix: str) -> bool:
    """Whether the text opens with the prefix, or has it after a space, as whole words."""
    return re.search(r"(?:^|\s)" + re.escape(prefix) + r"(?!\w)", text) is not None


@dataclass(frozen=True)
class LinkScore:
    """How links compare with gold pairs. ``unlisted`` are the links no gold pair names (to
    be read: a link the gold does not list can still be right)."""

    gold: int
    found: int  # gold pairs some link matches
    links: int
    correct: int  # links that match a gold pair
    unlisted: tuple[int, ...]  # row positions of the links that match none

    @property
    def precision(self) -> float:
        return self.correct / self.links if self.links else 0.0

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score_links(links: pd.DataFrame, gold: Sequence[tuple[str, str]]) -> LinkScore:
    """Precision and recall of links (``text_a``, ``text_b`` columns: earlier, later) against
    gold first-word pairs."""
    texts = list(zip(map(norm_text, links["text_a"]), map(norm_text, links["text_b"]), strict=True))
    wanted = [(norm_text(a), norm_text(b)) for a, b in gold]
    hits = [
        {g for g, (pa, pb) in enumerate(wanted) if _holds(ta, pa) and _holds(tb, pb)} for ta, tb in texts
    ]
    found = set().union(*hits) if hits else set()
    unlisted = tuple(i for i, h in enumerate(hits) if not h)
    return LinkScore(len(wanted), len(found), len(texts), len(texts) - len(unlisted), unlisted)


@dataclass(frozen=True)
class Labelled:
    """One labelled series: its candidates (``recurrence.Recurrence.candidates``, with
    ``text_a`` and ``text_b``) and its gold pairs."""

    name: str
    candidates: pd.DataFrame
    gold: list[tuple[str, str]]


def links_of(candidates: pd.DataFrame, rule: Rule) -> pd.DataFrame:
    """The links ``rule`` makes among the candidates, with the two texts."""
    texts = dict(zip(candidates["a"], candidates["text_a"], strict=True))
    texts.update(zip(candidates["b"], candidates["text_b"], strict=True))
    texts.update(zip(candidates["runner_up"], candidates["text_runner_up"], strict=True))
    links = decide(candidates, rule)
    return links.assign(text_a=links["a"].map(texts), text_b=links["b"].map(texts))


def fit_rule(
    series: Iterable[Labelled],
    thresholds: Sequence[float] = THRESHOLDS,
    margins: Sequence[float] = MARGINS,
) -> tuple[Rule, float]:
    """The rule that maximises F1 over the pooled links of some labelled series, and that F1.

    Every (threshold, margin) on the grid is tried; of those with the best F1, the middle
    one (median threshold, then median margin among those at it) is kept, so that the
    choice sits inside the range that works rather than on its edge."""
    series = list(series)
    scored = []
    for threshold in thresholds:
        for margin in margins:
            rule = Rule(threshold, margin)
            parts = [score_links(links_of(s.candidates, rule), s.gold) for s in series]
            gold = sum(p.gold for p in parts)
            found = sum(p.found for p in parts)
            links, correct = sum(p.links for p in parts), sum(p.correct for p in parts)
            precision = correct / links if links else 0.0
            recall = found / gold if gold else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            scored.append((f1, threshold, margin))
    best = max(f1 for f1, _, _ in scored)
    top = [(t, m) for f1, t, m in scored if f1 >= best - 1e-12]
    threshold = sorted({t for t, _ in top})[(len({t for t, _ in top}) - 1) // 2]
    at = sorted(m for t, m in top if t == threshold)
    margin = at[(len(at) - 1) // 2]
    names = ", ".join(s.name for s in series)
    return Rule(threshold, margin, f"fitted on {names} (F1 {best:.2f})"), best
