"""What the report shows, read from the analysis tables and turned into findings.

Both the HTML page and summary.md are rendered from one :class:`ReportData`, so the two
never disagree. Nothing here draws or formats: see ``figures.py``, ``html.py``,
``markdown.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.tableio import read_table

TABLES = (
    "documents", "units", "themes", "theme_shares", "unit_themes", "theme_models", "keyness",
    "recurring_recommendations", "recommendations_not_taken_up", "entity_counts",
    "recommendations", "recurrence_by_edition",
)  # fmt: skip
NUMERIC = {
    "theme_shares": ["share", "n_units", "n_conference_units", "conference_order"],
    "unit_themes": ["weight"],
    "keyness": ["statistic", "p_value", "log_ratio", "freq_target", "freq_reference", "conference_order"],
    "entity_counts": ["n_mentions", "n_units", "n_documents", "conference_order"],
    "recurring_recommendations": ["similarity", "threshold"],
    "theme_models": ["k", "stability", "coherence"],
    "themes": ["n_units"],
}


@dataclass
class Shift:
    """One theme's change between two consecutive conferences."""

    theme: str
    label: str
    before: float
    after: float

    @property
    def change(self) -> float:
        return self.after - self.before


@dataclass
class ConferenceStep:
    before: str  # conference labels
    after: str
    before_key: tuple[str, str]  # (conference, year)
    after_key: tuple[str, str]
    gains: list[Shift] = field(default_factory=list)
    losses: list[Shift] = field(default_factory=list)


@dataclass
class ReportData:
    tables: dict[str, pd.DataFrame]
    analysis: dict
    conferences: pd.DataFrame  # conference, year, conference_label, conference_order (in order)
    steps: list[ConferenceStep]

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]


def load(processed: Path) -> ReportData:
    """Read every table the report uses; a missing table is an empty one."""
    tables = {}
    for name in TABLES:
        path = processed / f"{name}.csv"
        frame = read_table(path) if path.exists() else pd.DataFrame()
        for column in NUMERIC.get(name, []):
            if column in frame.columns:
                frame[column] = pd.to_numeric(frame[column], errors="coerce")
        tables[name] = frame
    analysis_path = processed / "analysis.json"
    analysis = json.loads(analysis_path.read_text(encoding="utf-8")) if analysis_path.exists() else {}
    shares = tables["theme_shares"]
    if shares.empty:
        confs = pd.DataFrame(columns=["conference", "year", "conference_label", "conference_order"])
    else:
        confs = (
            shares[["conference", "year", "conference_label", "conference_order"]]
            .drop_duplicates("conference_order")
            .sort_values("conference_order")
            .reset_index(drop=True)
        )
    return ReportData(tables, analysis, confs, shift_steps(shares, confs))


def shift_steps(shares: pd.DataFrame, confs: pd.DataFrame, top: int = 2) -> list[ConferenceStep]:
    """Largest gains and losses of theme share between each pair of consecutive conferences."""
    steps = []
    for i in range(1, len(confs)):
        prev, nxt = confs.iloc[i - 1], confs.iloc[i]
        step = ConferenceStep(
            prev["conference_label"], nxt["conference_label"],
            (prev["conference"], prev["year"]), (nxt["conference"], nxt["year"]),
        )  # fmt: skip
        a = shares[shares["conference_order"] == prev["conference_order"]].set_index("theme")
        b = shares[shares["conference_order"] == nxt["conference_order"]].set_index("theme")
        moves = [
            Shift(t, b.loc[t, "label"], float(a.loc[t, "share"]), float(b.loc[t, "share"]))
            for t in b.index
            if t in a.index
        ]
        moves.sort(key=lambda s: (-s.change, s.theme))
        step.gains = [m for m in moves if m.change > 0][:top]
        step.losses = [m for m in reversed(moves) if m.change < 0][:top]
        steps.append(step)
    return steps


def representative_units(
    data: ReportData, theme: str, conference: tuple[str, str] | None = None, n: int = 2
) -> pd.DataFrame:
    """The units most clearly about a theme (optionally within one conference)."""
    units = data["unit_themes"]
    if units.empty:
        return units
    chosen = units[units["theme"] == theme]
    if conference is not None:
        chosen = chosen[(chosen["conference"] == conference[0]) & (chosen["year"] == conference[1])]
    chosen = chosen.assign(_rank=pd.to_numeric(chosen["rank"], errors="coerce"))
    return chosen.sort_values("_rank", kind="stable").head(n).drop(columns="_rank")


def recommendation_rows(data: ReportData) -> pd.DataFrame:
    """Recommendations with their conference, theme label and recurrence.

    Adds ``takes_up`` / ``taken_up_by`` (lists of (doc_id, unit_id, similarity)),
    ``not_taken_up`` and ``part_of`` (for the later sentences of a list item, the unit that
    opens it: recurrence is decided for the whole item).
    """
    recs = data["recommendations"]
    if recs.empty:
        return recs
    confs = data.conferences
    units_conf = data["unit_themes"][["doc_id", "conference", "year"]].drop_duplicates("doc_id")
    recs = recs.merge(units_conf, on="doc_id", how="left")
    recs[["conference", "year"]] = recs[["conference", "year"]].fillna("")
    order = {
        (c, y): o
        for c, y, o in zip(confs["conference"], confs["year"], confs["conference_order"], strict=True)
    }
    recs["conference_order"] = [
        order.get(k, len(order)) for k in zip(recs["conference"], recs["year"], strict=True)
    ]
    labels = dict(zip(data["themes"].get("theme", []), data["themes"].get("label", []), strict=True))
    recs["theme_label"] = recs["theme"].map(labels).fillna("")

    pairs, left = data["recurring_recommendations"], data["recommendations_not_taken_up"]
    takes_up: dict[tuple[str, str], list[tuple[str, str, float]]] = {}
    taken_by: dict[tuple[str, str], list[tuple[str, str, float]]] = {}
    opener: dict[tuple[str, str], tuple[str, str]] = {}
    for p in pairs.itertuples(index=False) if not pairs.empty else []:
        takes_up.setdefault((p.doc_id_b, p.unit_id_b), []).append((p.doc_id_a, p.unit_id_a, p.similarity))
        taken_by.setdefault((p.doc_id_a, p.unit_id_a), []).append((p.doc_id_b, p.unit_id_b, p.similarity))
    for frame, doc_col, ids_col in (
        (pairs, "doc_id_a", "unit_ids_a"),
        (pairs, "doc_id_b", "unit_ids_b"),
        (left, "doc_id", "unit_ids"),
    ):
        for doc, ids in zip(frame.get(doc_col, []), frame.get(ids_col, []), strict=True):
            first, *rest = str(ids).split(";")
            opener.update({(doc, unit): (doc, first) for unit in rest})
    not_taken = set(zip(left.get("doc_id", []), left.get("unit_id", []), strict=True))
    keys = [opener.get(k, k) for k in zip(recs["doc_id"], recs["unit_id"], strict=True)]
    recs["takes_up"] = [takes_up.get(k, []) for k in keys]
    recs["taken_up_by"] = [taken_by.get(k, []) for k in keys]
    recs["not_taken_up"] = [k in not_taken for k in keys]
    recs["part_of"] = [k[1] if k[1] != unit else "" for k, unit in zip(keys, recs["unit_id"], strict=True)]
    recs["_u"] = pd.to_numeric(recs["unit_id"], errors="coerce")
    return recs.sort_values(["conference_order", "doc_id", "_u"], kind="stable").drop(columns="_u")
