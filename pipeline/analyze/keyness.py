"""Distinctive terms of each conference against all the others (keyness).

Dunning's log-likelihood G² on the 2x2 table (term / other terms, this conference / the
rest), as corpus linguistics uses it: robust for the small counts of short memos, where
chi² overstates. ``statistic`` is signed (positive: the term is more frequent here than in
the other conferences), ``p_value`` comes from chi² with one degree of freedom.

A conference is tested against every term of the vocabulary at once, so its p-values are
corrected for the number of terms tested (Benjamini–Hochberg): ``q_value`` is the adjusted
p-value, and ``significant`` is q < alpha. Terms seen fewer than ``min_freq`` times in the
whole corpus are not tested. Names of organizations, countries and regions count as one
term ("World Health Organization"), never as the words and phrases inside them.
``log_ratio`` (binary log of the ratio of relative frequencies, +0.5 smoothing) says how
much more frequent.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import chdtrc  # chi2.sf itself, without importing scipy.stats (1 s)

KEYNESS_COLUMNS = [
    "conference", "year", "conference_label", "conference_order", "term", "statistic",
    "p_value", "q_value", "significant", "log_ratio", "freq_target", "freq_reference",
    "total_target", "total_reference", "n_tested",
]  # fmt: skip
_ACRONYM = re.compile(r"\s*\([^)]*\)\s*$")
_WORD = re.compile(r"\w+")


def log_likelihood(a: np.ndarray, b: np.ndarray, total_a: float, total_b: float) -> np.ndarray:
    """Signed G² of counts ``a`` (in a corpus of ``total_a`` terms) against ``b``."""
    expected_a = total_a * (a + b) / (total_a + total_b)
    expected_b = total_b * (a + b) / (total_a + total_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        part_a = np.where(a > 0, a * np.log(a / expected_a), 0.0)
        part_b = np.where(b > 0, b * np.log(b / expected_b), 0.0)
    g2 = 2 * (part_a + part_b)
    return np.where(a / max(total_a, 1) >= b / max(total_b, 1), g2, -g2)


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Adjusted p-values (false discovery rate) of one family of tests."""
    n = len(p)
    if not n:
        return p
    order = np.argsort(p, kind="stable")
    ranked = p[order] * n / np.arange(1, n + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def entity_term(canonical: str) -> str:
    """The name an entity is counted under: its canonical form without "(ACRONYM)"."""
    return _ACRONYM.sub("", str(canonical)).strip() or str(canonical)


def _inside(term: str, span_words: set[str]) -> bool:
    """Every word of a (lemmatized, lower-case) term is a word of the span, allowing for
    inflection ("state" in "Member States")."""
    words = _WORD.findall(term.lower())
    return bool(words) and all(any(s.startswith(w) for s in span_words) for w in words)


def with_entity_names(terms: list[str], spans: Sequence[tuple[str, str]]) -> list[str]:
    """A unit's terms with each entity mention (surface text, canonical name) counted once
    under its name, and the words and phrases that only repeat that name dropped."""
    if not spans:
        return terms
    span_words = [set(_WORD.findall(text.lower())) for text, _ in spans]
    kept = [t for t in terms if not any(_inside(t, words) for words in span_words)]
    return kept + [entity_term(canonical) for _, canonical in spans]


def keyness(
    term_lists: Sequence[list[str]],
    unit_conference: Sequence[int],
    conference_list: pd.DataFrame,
    alpha: float = 0.05,
    min_freq: int = 3,
    unit_entities: Sequence[Sequence[tuple[str, str]]] | None = None,
) -> pd.DataFrame:
    """One row per conference and term that occurs at least ``min_freq`` times in all.

    ``unit_entities`` gives, for each unit, its entity mentions as (surface text,
    canonical name) pairs. With a single conference there is nothing to compare against:
    the table is empty. Rows are sorted by conference, then by descending statistic, then term.
    """
    if len(conference_list) < 2:
        return pd.DataFrame(columns=KEYNESS_COLUMNS)
    if unit_entities is not None:
        term_lists = [with_entity_names(t, e) for t, e in zip(term_lists, unit_entities, strict=True)]
    counts: dict[int, Counter[str]] = {}
    for terms, conf in zip(term_lists, unit_conference, strict=True):
        counts.setdefault(conf, Counter()).update(terms)
    overall: Counter[str] = Counter()
    for c in counts.values():
        overall.update(c)
    vocabulary = sorted(t for t, n in overall.items() if n >= min_freq)
    if not vocabulary:
        return pd.DataFrame(columns=KEYNESS_COLUMNS)
    total_all = sum(overall.values())
    all_counts = np.array([overall[t] for t in vocabulary], dtype=float)
    frames = []
    for conf in conference_list.itertuples(index=False):
        mine = counts.get(conf.conference_order, Counter())
        a = np.array([mine[t] for t in vocabulary], dtype=float)
        b = all_counts - a
        total_a = float(sum(mine.values()))
        total_b = float(total_all - total_a)
        if total_a == 0 or total_b == 0:
            continue
        g2 = log_likelihood(a, b, total_a, total_b)
        p = chdtrc(1, np.abs(g2))
        q = benjamini_hochberg(p)
        ratio = np.log2(((a + 0.5) / total_a) / ((b + 0.5) / total_b))
        frames.append(
            pd.DataFrame(
                {
                    "conference": conf.conference,
                    "year": conf.year,
                    "conference_label": conf.conference_label,
                    "conference_order": conf.conference_order,
                    "term": vocabulary,
                    "statistic": np.round(g2, 4),
                    "p_value": np.round(p, 6),
                    "q_value": np.round(q, 6),
                    "significant": q < alpha,
                    "log_ratio": np.round(ratio, 4),
                    "freq_target": a.astype(int),
                    "freq_reference": b.astype(int),
                    "total_target": int(total_a),
                    "total_reference": int(total_b),
                    "n_tested": len(vocabulary),
                }
            )  # fmt: skip
        )
    if not frames:
        return pd.DataFrame(columns=KEYNESS_COLUMNS)
    table = pd.concat(frames, ignore_index=True)
    table = table[table["freq_target"] > 0]
    table = table.sort_values(
        ["conference_order", "statistic", "term"], ascending=[True, False, True], kind="stable"
    )
    return table.reset_index(drop=True)[KEYNESS_COLUMNS]
