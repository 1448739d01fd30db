"""The recurrence part of the report: per-edition counts and each link's evidence, as rows
(pure functions of the analysis tables) and as HTML."""

from __future__ import annotations

from html import escape

import pandas as pd

EDITION_HEADINGS = {
    "series": "series", "edition": "edition", "year": "year", "recommendations": "recommendations",
    "new": "new", "taken_up_from_earlier": "taken up from earlier", "dropped": "dropped later",
}  # fmt: skip


def edition_rows(by_edition: pd.DataFrame) -> list[dict[str, str]]:
    """recurrence_by_edition.csv as display rows (headings as keys)."""
    if by_edition.empty:
        return []
    frame = by_edition.reindex(columns=list(EDITION_HEADINGS)).fillna("").astype(str)
    return frame.rename(columns=EDITION_HEADINGS).to_dict("records")


def evidence(pair: object) -> str:
    """What a reader checks of one link: the matched terms and how far the runner-up is."""
    terms = str(getattr(pair, "shared_terms", "") or "")
    parts = [f"matched: {terms}"] if terms else []
    runner = getattr(pair, "runner_up_similarity", "")
    if str(runner) not in ("", "nan"):
        parts.append(f"runner-up (rank 2) {float(runner):.2f}")
    if str(getattr(pair, "merged", "")).lower() == "true":
        parts.append("merges two earlier recommendations")
    return "; ".join(parts)


def editions_html(by_edition: pd.DataFrame) -> str:
    """The per-edition table: how many recommendations were new, taken up, dropped."""
    rows = edition_rows(by_edition)
    if not rows:
        return "<p>No conference series with more than one edition.</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in EDITION_HEADINGS.values())
    body = "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row.values()) + "</tr>" for row in rows)
    return f"<h3>Recommendations per edition</h3><table><tr>{head}</tr>{body}</table>"
