"""Entity mentions of one document, as rows of ``entities.csv``.

Per unit, the pipeline has already resolved ORG/COUNTRY/REGION spans. Here the document
is read as a whole: an acronym defined in one unit ("... Network (RNN)") names the same
body in every other unit, so its later mentions are added and given the learned canonical
name. Across documents, an organization found by the model without its acronym in one memo
and with it in another gets the "Name (ACR)" form in both (``apply_acronym_forms``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from pipeline.extract.gazetteer import Knowledge, name_parts, reads_as_org_name

if TYPE_CHECKING:  # spaCy is imported only where documents are processed
    from spacy.tokens import Doc

ENTITY_COLUMNS = ["doc_id", "unit_id", "text", "label", "canonical", "iso3", "start", "end", "source"]


def unit_entities(doc_id: str, unit_id: str, doc: Doc) -> list[dict]:
    """The resolved mentions of one unit."""
    from_model = {(s.start, s.end) for s in doc.spans.get("model_orgs", [])}
    return [
        {
            "doc_id": doc_id,
            "unit_id": unit_id,
            "text": ent.text,
            "label": ent.label_,
            "canonical": ent.id_ or ent.text,
            "iso3": ent.kb_id_,
            "start": ent.start_char,
            "end": ent.end_char,
            "source": "model" if (ent.start, ent.end) in from_model else "gazetteer",
        }
        for ent in doc.ents
    ]


def learned_acronyms(docs: Sequence[Doc], knowledge: Knowledge) -> dict[str, str]:
    """Phrase (acronym or long form) -> canonical name, for every organization acronym the
    document defines. Known bodies keep their gazetteer name; new ones become "Long (ACR)"."""
    learned: dict[str, str] = {}
    for doc in docs:
        for definition in doc._.acronyms:
            canonical = knowledge.org_names.get(definition.long_form.lower()) or knowledge.org_names.get(
                definition.acronym.lower()
            )
            if canonical is None:
                if not reads_as_org_name(definition.long_form.split(), knowledge.rules):
                    continue
                canonical = f"{definition.long_form} ({definition.acronym})"
            learned.setdefault(definition.acronym, canonical)
            learned.setdefault(definition.long_form, canonical)
    return learned


def apply_acronyms(
    rows: list[dict], texts: dict[str, str], learned: dict[str, str], doc_id: str
) -> list[dict]:
    """Rename model mentions of a learned long form and add the mentions nothing found yet."""
    if not learned:
        return rows
    for row in rows:
        if row["label"] == "ORG" and row["source"] == "model" and row["text"] in learned:
            row.update(canonical=learned[row["text"]], source="acronym")
    taken: dict[str, list[tuple[int, int]]] = {}
    for row in rows:
        taken.setdefault(row["unit_id"], []).append((int(row["start"]), int(row["end"])))
    pattern = re.compile(
        r"(?<![\w-])(?:"
        + "|".join(re.escape(p) for p in sorted(learned, key=len, reverse=True))
        + r")(?![\w-])"
    )
    added = []
    for unit_id, text in texts.items():
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(s < end and start < e for s, e in taken.get(unit_id, [])):
                continue
            if text[end : end + 1] == ")" and text[start - 1 : start] == "(":
                continue  # the acronym in its own definition: the long form is the mention
            taken.setdefault(unit_id, []).append((start, end))
            added.append(
                {
                    "doc_id": doc_id,
                    "unit_id": unit_id,
                    "text": match.group(),
                    "label": "ORG",
                    "canonical": learned[match.group()],
                    "iso3": "",
                    "start": start,
                    "end": end,
                    "source": "acronym",
                }
            )
    return rows + added


def document_entities(
    doc_id: str, unit_ids: Sequence[str], docs: Sequence[Doc], knowledge: Knowledge
) -> list[dict]:
    """All mentions of one document, in text order."""
    rows = [
        row
        for unit_id, doc in zip(unit_ids, docs, strict=True)
        for row in unit_entities(doc_id, unit_id, doc)
    ]
    texts = {unit_id: doc.text for unit_id, doc in zip(unit_ids, docs, strict=True)}
    rows = apply_acronyms(rows, texts, learned_acronyms(docs, knowledge), doc_id)
    order = {unit_id: i for i, unit_id in enumerate(unit_ids)}
    return sorted(rows, key=lambda r: (order[r["unit_id"]], int(r["start"])))


def acronym_forms(canonicals: Iterable[str]) -> dict[str, str]:
    """Bare organization name -> its first "Name (ACR)" form among ``canonicals`` (in order)."""
    with_acronym: dict[str, str] = {}
    for canonical in canonicals:
        name, acronym = name_parts(canonical)
        if acronym:
            with_acronym.setdefault(name, canonical)
    return with_acronym


def apply_acronym_forms(entities: pd.DataFrame, with_acronym: dict[str, str]) -> pd.DataFrame:
    """Rename bare model or acronym-learned organization mentions to their "Name (ACR)"
    form; row by row, so a table can be done in pieces."""
    if entities.empty:
        return entities
    orgs = entities["label"] == "ORG"
    bare = (
        orgs & entities["source"].isin(["model", "acronym"]) & entities["canonical"].isin(list(with_acronym))
    )
    entities = entities.copy()
    entities.loc[bare, "canonical"] = entities.loc[bare, "canonical"].map(with_acronym)
    return entities
