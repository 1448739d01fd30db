"""What the report shows, read from the analysis tables and turned into findings.

Both the HTML page and summary.md are rendered from one :class:`ReportData`, so the two
never disagree. Nothing here draws or formats: see ``figures.py``, ``html.py``,
``markdown.py``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.analyze.corpus import conferences as document_conferences
from pipeline.analyze.entity_counts import entity_mentions
from pipeline.tableio import read_table

TABLES = (
    "documents", "units", "themes", "theme_shares", "unit_themes", "theme_models", "keyness",
    "recurring_recommendations", "recommendations_not_taken_up", "entity_counts",
    "recommendations", "recommendation_themes", "entities", "recurrence_by_edition",
)  # fmt: skip
NUMERIC = {
    "theme_shares": ["share", "n_units", "n_conference_units", "conference_order"],
    "unit_themes": ["weight"],
    "keyness": [
        "statistic",
        "p_value",
        "q_value",
        "log_ratio",
        "freq_target",
        "freq_reference",
        "conference_order",
    ],
    "entity_counts": ["n_mentions", "n_units", "n_documents", "conference_order"],
    "recurring_recommendations": ["similarity", "threshold"],
    "theme_models": ["k", "stability", "coherence"],
    "themes": ["n_units"],
}


FEW_UNITS = 20  # a conference with fewer units has shares too uncertain to read alone


def wilson(successes: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a share (stays within [0, 1] for small counts)."""
    if n <= 0:
        return 0.0, 1.0
    p = min(1.0, max(0.0, successes / n))
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def points(change: float) -> int:
    """A change of share in whole percentage points, rounded once for text and charts."""
    return int(round(change * 100))


def points_text(change: float) -> str:
    """ "13 points", "1 point": the size of a change as the text states it."""
    n = abs(points(change))
    return f"{n} point{'' if n == 1 else 's'}"


def share_pair(before: float, after: float) -> str:
    """ "6% → 36%"; with one decimal where whole percents would hide the change."""
    decimals = 1 if f"{before:.0%}" == f"{after:.0%}" else 0
    return f"{before:.{decimals}%} → {after:.{decimals}%}"


def share_text(share: float, n_units: int, size: int) -> str:
    """ "36% (9)", with the 95% Wilson interval when the conference has few units."""
    text = f"{share:.0%} ({n_units})"
    if size < FEW_UNITS:
        low, high = wilson(n_units, size)
        text += f" [{low:.0%}–{high:.0%}]"
    return text


def signed_points(change: float) -> str:
    """ "+12 pts", "-1 pt", "+0 pts": a chart's label of a change in points."""
    value = points(change)
    return f"{value:+d} {'pt' if abs(value) == 1 else 'pts'}"


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
    mentions: pd.DataFrame = field(default_factory=pd.DataFrame)  # entity_mentions of entities.csv
    undated: pd.DataFrame = field(default_factory=pd.DataFrame)  # documents with no year or date

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
    confs = dated(conference_table(shares))
    docs = tables["documents"]
    mentions = entity_mentions(tables["entities"], document_conferences(docs)) if not docs.empty else docs
    return ReportData(tables, analysis, confs, shift_steps(shares, confs), mentions, undated_documents(docs))


def conference_table(shares: pd.DataFrame) -> pd.DataFrame:
    """The conferences of the theme shares, in order."""
    if shares.empty:
        return pd.DataFrame(columns=["conference", "year", "conference_label", "conference_order"])
    return (
        shares[["conference", "year", "conference_label", "conference_order"]]
        .drop_duplicates("conference_order")
        .sort_values("conference_order")
        .reset_index(drop=True)
    )


def dated(confs: pd.DataFrame) -> pd.DataFrame:
    """The conferences with a year: a time series leaves out undated ones (unless none has one)."""
    has_year = confs["year"].fillna("").astype(str).str.strip() != ""
    return confs[has_year].reset_index(drop=True) if has_year.any() else confs


def undated_documents(docs: pd.DataFrame) -> pd.DataFrame:
    """Readable documents with neither year nor date: left out of the charts, listed in the report."""
    if docs.empty:
        return docs
    blank = pd.Series(True, index=docs.index)
    for column in ("year", "date"):
        if column in docs.columns:
            blank &= docs[column].fillna("").astype(str).str.strip() == ""
    if "status" in docs.columns:
        blank &= docs["status"].fillna("") != "error"
    return docs[blank]


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
        # a change that rounds to 0 points is no gain or loss to report
        step.gains = [m for m in moves if points(m.change) > 0][:top]
        step.losses = [m for m in reversed(moves) if points(m.change) < 0][:top]
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


def recommendation_themes(data: ReportData) -> pd.DataFrame:
    """(doc_id, unit_id, theme, theme_label) of each recommendation: from
    recommendation_themes.csv, or from the ``theme`` column of older recommendations.csv."""
    table = data["recommendation_themes"]
    if table.empty or "theme" not in table.columns:
        recs = data["recommendations"]
        column = recs["theme"] if "theme" in recs.columns else pd.Series("", index=recs.index)
        table = pd.DataFrame({"doc_id": recs["doc_id"], "unit_id": recs["unit_id"], "theme": column})
    table = table.assign(theme=table["theme"].fillna("").astype(str))
    if "theme_label" not in table.columns:
        labels = dict(zip(data["themes"].get("theme", []), data["themes"].get("label", []), strict=True))
        table = table.assign(theme_label=table["theme"].map(labels).fillna(""))
    return table[["doc_id", "unit_id", "theme", "theme_label"]].drop_duplicates(["doc_id", "unit_id"])


def recommendation_rows(data: ReportData) -> pd.DataFrame:
    """Recommendations with their conference, theme (``theme``, ``theme_label``, from
    recommendation_themes.csv) and recurrence.

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
    recs = recs.drop(columns=[c for c in ("theme", "theme_label") if c in recs.columns])
    recs = recs.merge(recommendation_themes(data), on=["doc_id", "unit_id"], how="left")
    recs[["theme", "theme_label"]] = recs[["theme", "theme_label"]].fillna("")

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


def conference_sizes(shares: pd.DataFrame) -> dict[int, int]:
    """conference_order -> number of themed units of the conference."""
    if shares.empty:
        return {}
    firsts = shares.drop_duplicates("conference_order")
    return {
        int(o): int(n) for o, n in zip(firsts["conference_order"], firsts["n_conference_units"], strict=True)
    }


def significant(value: object) -> bool:
    """A ``significant`` cell as read back from CSV ("True"/"False")."""
    return str(value).lower() in {"true", "1"}


def _overlaps(a: str, b: str) -> bool:
    """One term's words run inside the other's ("dual benefit" / "dual benefit model")."""
    short, long_ = sorted((a.lower().split(), b.lower().split()), key=len)
    return any(long_[i : i + len(short)] == short for i in range(len(long_) - len(short) + 1))


def top_keyness_terms(table: pd.DataFrame, conference_order: int, top: int) -> pd.DataFrame:
    """A conference's most distinctive terms, highest statistic first, each with its own
    statistic: a term overlapping one ranked higher ("model" under "dual benefit model") is
    left out rather than shown twice."""
    mine = table[(table["conference_order"] == conference_order) & (table["statistic"] > 0)]
    mine = mine.sort_values(["statistic", "term"], ascending=[False, True], kind="stable")
    chosen: list[int] = []
    for index, term in zip(mine.index, mine["term"].astype(str), strict=True):
        if not any(_overlaps(term, str(mine.at[i, "term"])) for i in chosen):
            chosen.append(index)
        if len(chosen) >= top:
            break
    return mine.loc[chosen]


def unit_order(unit_id: str) -> tuple[float, str]:
    """Unit ids in reading order: numerically (ids are numbers), then as text."""
    return (float(unit_id) if unit_id.isdigit() else float("inf"), unit_id)


def short_labels(conferences: pd.DataFrame) -> list[str]:
    """Compact conference labels: the year where each conference has its own, else 1, 2, …"""
    years = [str(y) for y in conferences["year"]]
    if all(years) and len(set(years)) == len(years):
        return years
    return [str(i + 1) for i in range(len(conferences))]
