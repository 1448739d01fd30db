"""Which units are analysed and which conference each belongs to.

A conference is a document's ``conference`` (name and edition) from documents.csv, or its
``year`` when it names none, so several documents of one meeting count together and any
number of conferences is handled the same way, ordered by date. An undated document (no
date, no year) cannot be placed in time: it is in no conference (see ``undated``).
"""

from __future__ import annotations

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
CONFERENCE_COLUMNS = ["doc_id", "conference", "year", "conference_label", "conference_order", "series"]


def _when(date: str, year: str) -> str:
    """A sortable point in time: the ISO date, else the year (sorts before its dated days)."""
    return date or year


def _readable(documents: pd.DataFrame) -> pd.DataFrame:
    docs = documents.copy()
    if "status" in docs.columns:
        docs = docs[docs["status"].fillna("") != "error"]
    for column in ("conference", "year", "date", "series"):
        if column not in docs.columns:
            docs[column] = ""
        docs[column] = docs[column].fillna("").astype(str).str.strip()
    docs["year"] = docs["year"].str.replace(r"\.0$", "", regex=True)
    return docs


def undated(documents: pd.DataFrame) -> pd.DataFrame:
    """Readable documents with neither a date nor a year (doc_id and source): kept in the
    tables, left out of ``conferences`` and so of every time series and shift."""
    docs = _readable(documents)
    mask = (docs["date"] == "") & (docs["year"] == "")
    columns = [c for c in ("doc_id", "source") if c in docs.columns]
    return docs.loc[mask, columns].reset_index(drop=True)


def conferences(documents: pd.DataFrame) -> pd.DataFrame:
    """One row per readable, dated document: its conference, year, label, order and series.

    Contract: documents with ``status=error`` and undated documents (no date and no year,
    listed by ``undated``) are not in the result, so nothing built on it (shares, shifts,
    keyness, recurrence, counts per conference) places them in time. A document naming a
    conference edition belongs to it; one naming a conference without an edition belongs to
    that conference's meeting of its year; one that names none is grouped by its year.
    ``conference_order`` is 0 for the earliest conference (by its earliest date, then its
    year); documents of one conference share it. ``series`` is the conference's name
    without the edition (empty for documents outside a series).
    """
    docs = _readable(documents)
    docs = docs[(docs["date"] != "") | (docs["year"] != "")].copy()
    if docs.empty:
        return pd.DataFrame(columns=CONFERENCE_COLUMNS)
    docs["year"] = docs["year"].where(docs["year"] != "", docs["date"].str[:4])
    docs["conference"] = docs["conference"].where(docs["conference"] != "", docs["year"])
    # a name without an edition ("Annual Dialogue on X") is one meeting a year
    edition = docs.get("edition", pd.Series("", index=docs.index)).fillna("").astype(str).str.strip()
    docs["_key"] = docs["conference"] + "\0" + docs["year"].where(edition == "", "")
    docs["_when"] = [_when(d, y) for d, y in zip(docs["date"], docs["year"], strict=True)]
    first = docs.groupby("_key")["_when"].min()
    first_year = docs.groupby("_key")["year"].min()
    keys = sorted(first.index, key=lambda key: (first_year[key], first[key], key))
    order = {key: i for i, key in enumerate(keys)}
    docs["conference_order"] = docs["_key"].map(order).astype(int)
    docs["year"] = docs["_key"].map(first_year)
    docs["conference_label"] = [
        f"{name} ({year})" if year and name != year else name
        for name, year in zip(docs["conference"], docs["year"], strict=True)
    ]
    out = docs[CONFERENCE_COLUMNS].sort_values(["conference_order", "doc_id"], kind="stable")
    return out.reset_index(drop=True)


def conference_list(confs: pd.DataFrame) -> pd.DataFrame:
    """One row per conference, in order (conference, year, label, order, series)."""
    columns = ["conference", "year", "conference_label", "conference_order", "series"]
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
