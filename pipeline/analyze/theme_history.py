"""Themes across runs: the fitted model kept in processed/, and what a re-fit changed.

A reader compares this run's report with the last one. When the themes are fitted again
(new memos, new vocabulary, a new number of themes), shares of earlier conferences can
move although nothing was added to them; ``theme_changes`` lists those moves so the report
and the terminal can say so. ``[analyze] pin_themes = true`` keeps the saved model instead:
new units are assigned to the existing themes and nothing earlier moves.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from pipeline.analyze.themes import Corpus, RunThemes

MODEL_FILE = "theme_model.json"
MOVE_THRESHOLD = 0.05  # a share that moved by more than 5 points is reported
CHANGE_COLUMNS = [
    "theme", "label", "previous_theme", "previous_label", "conference_label", "conference", "year",
    "previous_share", "share", "change", "reason",
]  # fmt: skip


@dataclass
class SavedModel:
    """What assigning new units to existing themes needs: the vocabulary with its IDF, the
    themes' term weights, their numbers and labels, and the series terms left out."""

    method: str
    vocabulary: list[str]
    idf: list[float]
    term_weights: np.ndarray  # k x n_terms
    numbers: list[str]  # theme number of each component
    labels: list[str]  # label of each component
    stop_terms: list[str]
    units: dict[str, int]  # "doc_id/unit_id" -> component, the units' themes in that run
    fit_key: str = ""  # what it was fitted from (``themes._run_key``)
    selection: pd.DataFrame = field(default_factory=pd.DataFrame)  # theme_models.csv of that run

    @property
    def k(self) -> int:
        return len(self.numbers)

    def to_json(self) -> str:
        data = {
            "method": self.method, "vocabulary": self.vocabulary, "idf": list(self.idf),
            "term_weights": self.term_weights.tolist(), "numbers": self.numbers,
            "labels": self.labels, "stop_terms": self.stop_terms, "units": self.units,
            "fit_key": self.fit_key, "selection": self.selection.to_dict(orient="records"),
        }  # fmt: skip
        return json.dumps(data, ensure_ascii=False, default=_plain)

    @classmethod
    def from_json(cls, text: str) -> SavedModel:
        data = json.loads(text)
        weights = np.asarray(data["term_weights"], dtype=float).reshape(len(data["numbers"]), -1)
        return cls(
            data["method"], list(data["vocabulary"]), [float(v) for v in data["idf"]], weights,
            [str(n) for n in data["numbers"]], list(data["labels"]), list(data["stop_terms"]),
            {str(key): int(c) for key, c in data.get("units", {}).items()}, str(data.get("fit_key", "")),
            pd.DataFrame(data.get("selection", [])),
        )  # fmt: skip

    def components_of(self, keys: Sequence[tuple[str, str]]) -> list[int]:
        """Each unit's component in the kept model, -1 for units it did not theme."""
        return [self.units.get(unit_name(*key), -1) for key in keys]

    def corpus_of(self, term_lists: list[list[str]]) -> Corpus:
        """The units as the saved model sees them: its vocabulary and IDF, nothing refitted."""
        from pipeline.analyze.themes import Corpus, tfidf_vectorizer

        vectorizer = tfidf_vectorizer(list(self.vocabulary), self.idf)
        tfidf = vectorizer.transform(term_lists).tocsr()
        return Corpus(tfidf, (tfidf > 0).astype(float).tocsr(), list(self.vocabulary), vectorizer)

    def initial_weights(self, vocabulary: list[str]) -> np.ndarray:
        """The saved themes' term weights over another vocabulary (terms new to it at 0):
        the start of a re-fit, so that themes the new units do not contradict stay as
        they were."""
        position = {t: i for i, t in enumerate(vocabulary)}
        init = np.zeros((self.k, len(vocabulary)))
        for j, term in enumerate(self.vocabulary):
            if term in position:
                init[:, position[term]] = self.term_weights[:, j]
        return init


def load_model(processed: Path) -> SavedModel | None:
    """The model a previous run kept, or None (none kept, or unreadable: then re-fitted)."""
    path = processed / MODEL_FILE
    if not path.exists():
        return None
    try:
        return SavedModel.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, KeyError, TypeError) as error:
        print(f"analyze: {path}: not a theme model ({error}); the themes are fitted again", file=sys.stderr)
        return None


def theme_changes(
    previous_units: pd.DataFrame,
    previous_shares: pd.DataFrame,
    unit_themes: pd.DataFrame,
    shares: pd.DataFrame,
    reason: str,
    threshold: float = MOVE_THRESHOLD,
) -> pd.DataFrame:
    """Earlier shares that moved by more than ``threshold`` after a re-fit.

    Each new theme is matched to the earlier theme it shares most units with (one to one,
    Hungarian method); a share is compared with its matched theme's share in the same
    conference. A theme without an earlier match is compared with 0.
    """
    if previous_shares.empty or shares.empty:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    earlier, now = _same_units(previous_units, unit_themes)
    matched = match_themes(earlier, now)

    before = previous_shares.astype({"theme": str, "year": str, "conference": str})
    before_share = {
        (t, c, y): float(s)
        for t, c, y, s in zip(
            before["theme"], before["conference"], before["year"], before["share"], strict=True
        )
    }
    before_label = dict(zip(before["theme"], before["label"], strict=True))
    editions_before = set(zip(before["conference"], before["year"], strict=True))
    found = []
    for row in shares.astype({"theme": str, "year": str, "conference": str}).itertuples(index=False):
        if (row.conference, row.year) not in editions_before:
            continue  # a new conference: nothing to compare with
        old = matched.get(row.theme, "")
        old_share = before_share.get((old, row.conference, row.year), 0.0)
        change = float(row.share) - old_share
        if abs(change) > threshold:
            found.append(
                {
                    "theme": row.theme, "label": row.label, "previous_theme": old,
                    "previous_label": before_label.get(old, ""), "conference_label": row.conference_label,
                    "conference": row.conference, "year": row.year, "previous_share": round(old_share, 4),
                    "share": round(float(row.share), 4), "change": round(change, 4), "reason": reason,
                }
            )  # fmt: skip
    return pd.DataFrame(found, columns=CHANGE_COLUMNS)


def _same_units(previous_units: pd.DataFrame, unit_themes: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The earlier and the present theme of each unit found in both tables."""
    keys = ["doc_id", "unit_id"]
    if previous_units.empty or not {*keys, "theme"} <= set(previous_units.columns):
        return [], []
    both = (
        previous_units[[*keys, "theme"]]
        .astype(str)
        .merge(unit_themes[[*keys, "theme"]].astype(str), on=keys, suffixes=("_before", ""))
    )
    return both["theme_before"].tolist(), both["theme"].tolist()


def match_themes(before: Sequence[str], after: Sequence[str]) -> dict[str, str]:
    """Present theme -> the earlier theme it shares most units with, one to one (Hungarian
    method); ``before`` and ``after`` are the two themes of the same units ("" = none)."""
    from scipy.optimize import linear_sum_assignment

    pairs = [(b, a) for b, a in zip(before, after, strict=True) if b and a]
    if not pairs:
        return {}
    before_ids = sorted({b for b, _ in pairs})
    after_ids = sorted({a for _, a in pairs})
    overlap = np.zeros((len(after_ids), len(before_ids)))
    for b, a in pairs:
        overlap[after_ids.index(a), before_ids.index(b)] += 1
    rows, cols = linear_sum_assignment(-overlap)
    return {after_ids[r]: before_ids[c] for r, c in zip(rows, cols, strict=True) if overlap[r, c] > 0}


def kept_share(before: Sequence[str], after: Sequence[str]) -> float:
    """Share of the units themed before that are still in their theme (``match_themes``);
    NaN when none was themed before."""
    matched = match_themes(before, after)
    earlier = [(b, a) for b, a in zip(before, after, strict=True) if b]
    if not earlier:
        return float("nan")
    return sum(matched.get(a) == b for b, a in earlier) / len(earlier)


def kept_units(previous_units: pd.DataFrame, unit_themes: pd.DataFrame) -> float:
    """``kept_share`` of the units in both tables (NaN without earlier themed units)."""
    return kept_share(*_same_units(previous_units, unit_themes))


def refit_reason(previous: SavedModel | None, k: int, vocabulary: list[str], stop_terms: list[str]) -> str:
    """Why a re-fit may have moved shares: "new k (5 → 7)", "new vocabulary (+12 / -3
    terms)", or both; empty when the previous model had the same k and vocabulary."""
    if previous is None:
        return ""
    parts = []
    if previous.k != k:
        parts.append(f"new k ({previous.k} → {k})")
    added = len(set(vocabulary) - set(previous.vocabulary))
    removed = len(set(previous.vocabulary) - set(vocabulary))
    if added or removed:
        parts.append(f"new vocabulary (+{added} / -{removed} terms)")
    if set(stop_terms) != set(previous.stop_terms):
        parts.append("new series terms left out")
    return "; ".join(parts)


def unit_name(doc_id: object, unit_id: object) -> str:
    return f"{doc_id}/{unit_id}"


def kept_model(run: RunThemes, themes: pd.DataFrame, unit_themes: pd.DataFrame) -> SavedModel:
    """The model of this run, as the next run reads it (``themes``: themes.csv, which gives
    each component its number and label; ``unit_themes``: which unit is in which theme)."""
    by_component = themes.set_index(themes["component"].astype(int))
    component = dict(zip(themes["theme"].astype(str), themes["component"].astype(int), strict=True))
    units = {
        unit_name(d, u): component[t]
        for d, u, t in zip(
            unit_themes["doc_id"], unit_themes["unit_id"], unit_themes["theme"].astype(str), strict=True
        )
        if t in component
    }
    vectorizer = run.corpus.vectorizer
    idf = [] if vectorizer is None else [float(v) for v in vectorizer.idf_]
    return SavedModel(
        run.model.method, list(run.corpus.vocabulary), idf, np.asarray(run.model.term_weights),
        [str(by_component.loc[j, "theme"]) for j in range(run.model.k)],
        [str(by_component.loc[j, "label"]) for j in range(run.model.k)], list(run.stop_terms), units,
        run.fit_key, run.model.selection,
    )  # fmt: skip



def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else str(value)
