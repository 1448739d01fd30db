"""Organizations, countries and regions named, counted per conference.

Counts come from entities.csv (one row per mention) joined to the conference of each
document: ``n_mentions`` counts mentions, ``n_units`` the distinct units that name the
entity, ``n_documents`` the documents. An entity is its ``canonical`` name (the mention's
text where the extraction gave none). Mentions in boilerplate (letterheads, addresses,
disclaimers: ``in_boilerplate``) and programmes, regimes or treaties (an ORG whose ``kind``
is not "organization") are not counted.
"""

from __future__ import annotations

import pandas as pd

ENTITY_COUNT_COLUMNS = [
    "conference", "year", "conference_label", "conference_order", "label", "canonical",
    "iso3", "n_mentions", "n_units", "n_documents",
]  # fmt: skip


def entity_mentions(entities: pd.DataFrame, confs: pd.DataFrame) -> pd.DataFrame:
    """Each mention with its entity (``canonical``, upper-case ``label``) and the conference
    columns of its document; what the counts count, and what the report lists under them."""
    if entities.empty or confs.empty:
        return pd.DataFrame(columns=list(dict.fromkeys([*entities.columns, *confs.columns])))
    ents = entities.copy()
    for column in ("label", "canonical", "iso3", "text", "kind", "in_boilerplate"):
        if column not in ents.columns:
            ents[column] = ""
        ents[column] = ents[column].fillna("").astype(str).str.strip()
    ents["canonical"] = ents["canonical"].where(ents["canonical"] != "", ents["text"])
    ents = ents[ents["canonical"] != ""]
    ents = ents[ents["in_boilerplate"].str.lower() != "true"]
    ents = ents[ents["kind"].isin(["", "organization"]) | (ents["label"].str.upper() != "ORG")]
    ents["label"] = ents["label"].str.upper()
    return ents.merge(confs, on="doc_id", how="inner")


def entity_counts(entities: pd.DataFrame, confs: pd.DataFrame) -> pd.DataFrame:
    """One row per conference x label x canonical entity, most mentioned first."""
    merged = entity_mentions(entities, confs)
    if merged.empty:
        return pd.DataFrame(columns=ENTITY_COUNT_COLUMNS)
    merged["unit_key"] = merged["doc_id"] + "#" + merged["unit_id"].astype(str)
    keys = ["conference_order", "conference", "year", "conference_label", "label", "canonical"]
    grouped = merged.groupby(keys, sort=False).agg(
        iso3=("iso3", lambda s: next((v for v in s if v), "")),
        n_mentions=("canonical", "size"),
        n_units=("unit_key", "nunique"),
        n_documents=("doc_id", "nunique"),
    )
    table = grouped.reset_index()
    table = table.sort_values(
        ["conference_order", "label", "n_mentions", "canonical"],
        ascending=[True, True, False, True],
        kind="stable",
    )
    return table.reset_index(drop=True)[ENTITY_COUNT_COLUMNS]
