"""Which units are analysed and which conference each belongs to.

A conference is a document's ``conference`` + ``year`` from documents.csv (falling back to
the year alone, then to the document id), so several documents of one meeting count
together and any number of conferences is handled the same way, ordered by year.
"""

from __future__ import annotations

import math
import re

import pandas as pd

# Headings and boilerplate (letterheads, disclaimers, contact lines) say nothing about the
# subject: themes, keyness and shares count only running text and list items.
CONTENT_KINDS = ("sentence", "list_item")
# Header fields of a memo or note ("Event: ...", "Date and Venue: ...", "Organizer(s): ...")
# describe the meeting, not what was said there, even when laid out as list items.
METADATA_FIELD = re.compile(
    r"^\W*(event|title|subject|date|dates|venue|location|place|organi[sz]er|organi[sz]ers|"
    r"organi[sz]er\(s\)|host|hosts|participants|attendees|to|from|cc|re|memo to)"
    r"( and (venue|date|location|place))?\s*:",
    re.IGNORECASE,
)
CONFERENCE_COLUMNS = ["doc_id", "conference", "year", "conference_label", "conference_order"]


def _year(value: object) -> float:
    try:
        return float(str(value).strip()[:4])
    except ValueError:
        return math.inf


def conferences(documents: pd.DataFrame) -> pd.DataFrame:
    """One row per readable document: its conference, year, display label and order.

    ``conference_order`` is 0 for the earliest conference; documents of one conference
    share it. Documents with ``status=error`` are left out.
    """
    docs = documents.copy()
    if "status" in docs.columns:
        docs = docs[docs["status"].fillna("") != "error"]
    if docs.empty:
        return pd.DataFrame(columns=CONFERENCE_COLUMNS)
    for column in ("conference", "year"):
        if column not in docs.columns:
            docs[column] = ""
        docs[column] = docs[column].fillna("").astype(str).str.strip()
    docs["year"] = docs["year"].str.replace(r"\.0$", "", regex=True)
    names = docs["conference"].where(docs["conference"] != "", docs["year"])
    docs["conference"] = names.where(names != "", docs["doc_id"])
    docs["_key"] = list(zip(docs["year"], docs["conference"], strict=True))
    keys = sorted(set(docs["_key"]), key=lambda k: (_year(k[0]), k[0], k[1]))
    order = {key: i for i, key in enumerate(keys)}
    docs["conference_order"] = docs["_key"].map(order).astype(int)
    docs["conference_label"] = [
        f"{name} ({year})" if year and name != year else name for year, name in docs["_key"]
    ]
    out = docs[CONFERENCE_COLUMNS].sort_values(["conference_order", "doc_id"], kind="stable")
    return out.reset_index(drop=True)


def conference_list(confs: pd.DataFrame) -> pd.DataFrame:
    """One row per conference, in order (conference, year, conference_label, conference_order)."""
    columns = ["conference", "year", "conference_label", "conference_order"]
    if confs.empty:
        return pd.DataFrame(columns=columns)
    return (
        confs.drop_duplicates("conference_order")[columns]
        .sort_values("conference_order")
        .reset_index(drop=True)
    )


def content_units(units: pd.DataFrame, confs: pd.DataFrame) -> pd.DataFrame:
    """Sentences and list items of readable documents, with their conference columns."""
    if units.empty or confs.empty:
        return pd.DataFrame(columns=[*units.columns, *CONFERENCE_COLUMNS[1:]])
    keep = units["kind"].isin(CONTENT_KINDS) & (units["text"].str.strip() != "")
    keep &= ~units["text"].str.match(METADATA_FIELD)
    merged = units[keep].merge(confs, on="doc_id", how="inner")
    merged["_order"] = pd.to_numeric(merged["unit_id"], errors="coerce")
    merged = merged.sort_values(["conference_order", "doc_id", "_order"], kind="stable")
    return merged.drop(columns="_order").reset_index(drop=True)


def unit_key(doc_id: str, unit_id: object) -> tuple[str, str]:
    """How units are looked up across tables (unit ids are read as text everywhere)."""
    return str(doc_id), str(unit_id)
