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

from pipeline.extract.acronyms import DEFINITION, is_acronym
from pipeline.extract.gazetteer import (
    Knowledge,
    from_capitals,
    governing_head,
    name_parts,
    org_kind,
    strip_article,
)

if TYPE_CHECKING:  # spaCy is imported only where documents are processed
    from spacy.tokens import Doc

ENTITY_COLUMNS = [
    "doc_id", "unit_id", "text", "label", "canonical", "iso3", "start", "end", "source", "kind",
    "in_boilerplate",
]  # fmt: skip
BOILERPLATE = "boilerplate"  # the units.csv kind of letterheads, addresses, disclaimers, contact lines
ACRONYM_AFTER = re.compile(r"\s*" + DEFINITION.pattern)
OWNER = re.compile(r"^(?P<owner>.+?)['’]s\s")  # "the Security Council's 1718 Committee"


def unit_entities(doc_id: str, unit_id: str, doc: Doc, knowledge: Knowledge) -> list[dict]:
    """The resolved mentions of one unit, with the body a possessive names inside a known
    name ("the Security Council's 1718 Committee" names the Security Council too)."""
    from_model = {(s.start, s.end) for s in doc.spans.get("model_orgs", [])}
    in_boilerplate = doc._.kind == BOILERPLATE
    rows = []
    for ent in doc.ents:
        source = "model" if (ent.start, ent.end) in from_model else "gazetteer"
        canonical = ent.id_ or ent.text
        rows.append(
            entity_row(
                doc_id, unit_id, ent.text, ent.label_, canonical, ent.start_char, source, knowledge,
                iso3=ent.kb_id_, in_boilerplate=in_boilerplate,
            )
        )  # fmt: skip
        owner = OWNER.match(ent.text) if ent.label_ == "ORG" and source == "gazetteer" else None
        owner_name = knowledge.org_names.get(strip_article(owner["owner"]).lower()) if owner else None
        if owner and owner_name and owner_name != canonical:
            start = ent.start_char + owner.start("owner")
            rows.append(
                entity_row(
                    doc_id, unit_id, owner["owner"], "ORG", owner_name, start, "gazetteer", knowledge,
                    in_boilerplate=in_boilerplate,
                )
            )  # fmt: skip
    return rows


def entity_row(
    doc_id: str,
    unit_id: str,
    text: str,
    label: str,
    canonical: str,
    start: int,
    source: str,
    knowledge: Knowledge,
    iso3: str = "",
    in_boilerplate: bool = False,
) -> dict:
    """One mention; an organization's ``kind`` from its gazetteer entry or its head word."""
    kind = ""
    if label == "ORG":
        kind = knowledge.org_kinds.get(canonical) or org_kind(
            governing_head(name_parts(canonical)[0].split(), knowledge.rules), knowledge.rules
        )
    return {
        "doc_id": doc_id,
        "unit_id": unit_id,
        "text": text,
        "label": label,
        "canonical": canonical,
        "iso3": iso3,
        "start": start,
        "end": start + len(text),
        "source": source,
        "kind": kind,
        "in_boilerplate": in_boilerplate,
    }


def learned_acronyms(docs: Sequence[Doc], knowledge: Knowledge) -> dict[str, str]:
    """Phrase (acronym or long form) -> canonical name, for every organization acronym the
    document defines. Known bodies keep their gazetteer name; new ones become "Long (ACR)",
    title-cased when the text shouts ("EAST AFRICA INSTITUTE ..."). The acronym vouches for the
    name, so its organization word may stand anywhere ("Bank Negara Malaysia")."""
    learned: dict[str, str] = {}
    for doc in docs:
        for definition in doc._.acronyms:
            canonical = knowledge.org_names.get(definition.long_form.lower()) or knowledge.org_names.get(
                definition.acronym.lower()
            )
            if canonical is None:
                name = from_capitals(definition.long_form, knowledge.rules)
                if governing_head(name.split(), knowledge.rules, anywhere=True) is None:
                    continue
                canonical = f"{name} ({definition.acronym})"
            learned.setdefault(definition.acronym, canonical)
            learned.setdefault(definition.long_form, canonical)
    return learned


def acronyms_after_names(rows: list[dict], texts: dict[str, str]) -> dict[str, str]:
    """Acronyms whose letters do not spell the name before them, often in another language
    ("Agency for Nuclear Safety (AMSSN)"): an acronym in parentheses right after a name the
    model or the head-word rule found names that body."""
    learned: dict[str, str] = {}
    for row in rows:
        if row["label"] != "ORG" or row["source"] != "model":
            continue
        match = ACRONYM_AFTER.match(texts[row["unit_id"]], int(row["end"]))
        if match and is_acronym(match["acronym"]) and not name_parts(row["canonical"])[1]:
            canonical = f"{row['canonical']} ({match['acronym']})"
            learned.setdefault(match["acronym"], canonical)
            learned.setdefault(row["text"], canonical)
    return learned


def merge_learned(by_letters: dict[str, str], after_names: dict[str, str]) -> dict[str, str]:
    """One canonical name per acronym: the one its letters spell, unless the name found right
    before the parenthesis holds it and starts earlier ("Lusitanian Agency for …" over
    "Agency for …"), or the letters spell nothing."""
    merged = dict(by_letters)
    for phrase, canonical in after_names.items():
        name, acronym = name_parts(canonical)
        spelled = by_letters.get(acronym)
        if spelled is None or (spelled != canonical and name.endswith(name_parts(spelled)[0])):
            if spelled is not None:  # the letter-spelled long form names the longer name too
                merged.update({p: canonical for p, c in by_letters.items() if c == spelled})
            merged[phrase] = canonical
    return merged


def apply_acronyms(
    rows: list[dict],
    texts: dict[str, str],
    learned: dict[str, str],
    doc_id: str,
    knowledge: Knowledge,
    boilerplate: set[str],
) -> list[dict]:
    """Rename model mentions of a learned long form and add the mentions nothing found yet;
    a country, region or model fragment inside a long form is part of the name."""
    if not learned:
        return rows
    for row in rows:
        if row["label"] == "ORG" and row["source"] == "model" and row["text"] in learned:
            row.update(canonical=learned[row["text"]], source="acronym")
    pattern = re.compile(
        r"(?<![\w-])(?:"
        + "|".join(re.escape(p) for p in sorted(learned, key=len, reverse=True))
        + r")(?![\w-])"
    )
    by_unit: dict[str, list[dict]] = {}
    for row in rows:
        by_unit.setdefault(row["unit_id"], []).append(row)
    inside_names: list[int] = []  # ids of place rows a learned name covers
    added = []
    for unit_id, text in texts.items():
        for match in pattern.finditer(text):
            start, end = match.span()
            overlapping = [
                r for r in by_unit.get(unit_id, []) if int(r["start"]) < end and start < int(r["end"])
            ]
            if any(
                r["label"] == "ORG"
                and (r["source"] != "model" or int(r["start"]) < start or end < int(r["end"]))
                for r in overlapping
            ):
                continue  # a known body, or a span that reaches beyond the name
            if text[end : end + 1] == ")" and text[start - 1 : start] == "(":
                continue  # the acronym in its own definition: the long form is the mention
            inside_names.extend(id(r) for r in overlapping)
            row = entity_row(
                doc_id, unit_id, match.group(), "ORG", learned[match.group()], start, "acronym", knowledge,
                in_boilerplate=unit_id in boilerplate,
            )  # fmt: skip
            by_unit.setdefault(unit_id, []).append(row)
            added.append(row)
    return [r for r in rows if id(r) not in set(inside_names)] + added


def document_entities(
    doc_id: str, unit_ids: Sequence[str], docs: Sequence[Doc], knowledge: Knowledge
) -> list[dict]:
    """All mentions of one document, in text order."""
    rows = [
        row
        for unit_id, doc in zip(unit_ids, docs, strict=True)
        for row in unit_entities(doc_id, unit_id, doc, knowledge)
    ]
    texts = {unit_id: doc.text for unit_id, doc in zip(unit_ids, docs, strict=True)}
    boilerplate = {unit_id for unit_id, doc in zip(unit_ids, docs, strict=True) if doc._.kind == BOILERPLATE}
    learned = merge_learned(learned_acronyms(docs, knowledge), acronyms_after_names(rows, texts))
    rows = apply_acronyms(rows, texts, learned, doc_id, knowledge, boilerplate)
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
