"""Recommendation units of one document, as rows of ``recommendations.csv``.

A unit is a recommendation when its own parse carries a cue (``cues.find_cue``, computed
by the ``recommendation_cue`` component) or when it is an item of a list whose lead-in
announces recommendations, ways forward, next steps, options... (read from the layout
columns of units.csv: ``kind``, ``level``). Headings and boilerplate never are.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import pandas as pd

from pipeline.extract.classifier import Layout, RecommendationModel, lead_in_features, unit_features
from pipeline.extract.cues import Cue, CueLexicon
from pipeline.extract.gazetteer import (
    knowledge_file,
    load_knowledge,
    name_parts,
    resolve_data_dir,
    split_aliases,
)

if TYPE_CHECKING:  # spaCy is imported only where documents are processed
    from spacy.tokens import Doc

RECOMMENDATION_COLUMNS = ["doc_id", "unit_id", "text", "actor", "cue", "kind", "section", "rule", "score"]
UNSPECIFIED = "unspecified"
NOT_MODIFIERS = r"(?:be|by|of|in|on|at|from|with|into|through|among|between|and|or)"
LIST_ANNOUNCERS = re.compile(r"(?i)\b(?:following|as follows|below|include|includes|including)\b")


class ActorLexicon:
    """Actor values and the words naming them, from ``recommendation_cues.toml``; the names of
    the regional bodies of ``organizations.csv`` (type ``regional``) name regional organizations."""

    def __init__(self, cues: dict, regional_bodies: Iterable[str] = ()) -> None:
        actors = cues.get("actors", {})
        words = {actor: list(names) for actor, names in actors.get("words", {}).items()}
        words.setdefault("regional organizations", []).extend(regional_bodies)
        for rule in actors.get("qualified", []):  # "ASEAN member states", "States able to do so"
            names = [f"{name} {then}" for name in words.get(rule["of"], []) for then in rule["then"]]
            words.setdefault(rule["names"], []).extend(names)
        self.default = str(actors.get("default", UNSPECIFIED))
        self.proposers = {a.lower() for a in actors.get("proposers", [])}
        self.group_nouns = {w.lower() for w in actors.get("group_nouns", [])}
        self.modifying = set(actors.get("modifying", []))
        served = actors.get("served", {})
        self.served = [(server, _names_pattern(names)) for server, names in served.items() if names]
        recipient_words = actors.get("recipient_words", [])
        # "to"/"for", then up to three modifiers (no preposition or verb: "to be considered by")
        self.recipient = re.compile(
            r"(?i)(?<![\w-])(?:"
            + "|".join(map(re.escape, recipient_words))
            + r")\s+(?:(?!"
            + NOT_MODIFIERS
            + r"\b)[a-z][\w-]*\s+){0,3}$"
            if recipient_words
            else r"(?!)"
        )
        self.patterns = [
            (actor, _names_pattern(words[actor]))
            for actor in actors.get("order", list(words))
            if words.get(actor)
        ]

    def actor_in(
        self,
        phrase: str,
        proposers: bool = True,
        recipients: bool = True,
        modifier_ends: Collection[int] = (),
    ) -> str | None:
        """The actor named first in ``phrase`` (the longest name where two start at one word,
        then the configured order); a proposer ("participants") only when ``proposers``, one
        named as a recipient ("feedback to States") only when ``recipients``; a name of the
        ``modifying`` actors never where it modifies a thing (``modifier_ends``: "country reports")."""
        found = [
            (match.start(), -len(match.group(0)), rank, actor)
            for rank, (actor, pattern) in enumerate(self.patterns)
            if proposers or actor not in self.proposers
            for match in pattern.finditer(phrase or "")
            if (recipients or not self.receives(phrase, match))
            and (actor not in self.modifying or match.end() not in modifier_ends)
        ]
        return min(found)[3] if found else None

    def modifier_ends(self, doc: Doc, phrase: str) -> set[int]:
        """Where in ``phrase`` (a part of ``doc``) the words end that modify a following noun
        naming no actor or group: "country" in "country reports", "EU" in "EU accession
        process", not "society" in "civil society organizations"."""
        offset = doc.text.find(phrase) if phrase else -1
        if offset < 0:
            return set()
        return {
            token.idx + len(token) - offset
            for token in doc
            if token.dep_ in {"compound", "nmod", "amod"}
            and token.head.i > token.i
            and token.head.tag_.startswith("NN")
            and token.head.lower_ not in self.group_nouns
            and self.actor_in(token.head.text) is None
        }

    def receives(self, phrase: str, match: re.Match) -> bool:
        """The name is whom something goes to ("feedback to States", "a format for small
        States"), not who acts; "for States to adopt" still names who acts."""
        return bool(self.recipient.search(phrase[: match.start()])) and not re.match(
            r"\s+to\s", phrase[match.end() :]
        )

    def server_of(self, phrase: str) -> str | None:
        """Who serves the first recipient named in ``phrase`` ("feedback to States": the
        Committee), when the settings name one."""
        found = [
            (match.start(), rank, server)
            for rank, (server, pattern) in enumerate(self.served)
            for match in pattern.finditer(phrase or "")
            if self.receives(phrase, match)
        ]
        return min(found)[2] if found else None


def _names_pattern(names: Iterable[str]) -> re.Pattern:
    """Any of ``names`` as whole words, the longest first."""
    return re.compile(
        r"(?i)(?<![\w-])(?:"
        + "|".join(re.escape(w) for w in sorted(names, key=len, reverse=True))
        + r")(?![\w-])"
    )


def regional_bodies(organizations: pd.DataFrame) -> list[str]:
    """Every name, acronym and alias of the organizations typed ``regional``."""
    names: list[str] = []
    for row in organizations[organizations["type"].str.strip() == "regional"].itertuples(index=False):
        full, acronym = name_parts(row.canonical.strip())
        names += [full, row.acronym.strip() or acronym, *split_aliases(row.aliases)]
    return [n for n in names if n]


@lru_cache(maxsize=4)
def actor_lexicon(data_dir: str = "") -> ActorLexicon:
    """The actor lexicon of the knowledge files in ``data_dir`` (the shipped ones by default)."""
    organizations = pd.read_csv(
        knowledge_file(resolve_data_dir(data_dir or None), "organizations.csv"),
        dtype=str,
        keep_default_na=False,
    )
    return ActorLexicon(load_knowledge(data_dir or None).cues, regional_bodies(organizations))


@dataclass(frozen=True)
class ListContext:
    """What the list an item belongs to was introduced by."""

    announces: bool
    lead_in: int | None  # position of the lead-in unit in the document


def announces_recommendations(text: str, kind: str, cue: Cue | None, lexicon: CueLexicon) -> bool:
    """A lead-in names recommendations/ways forward/next steps/... and introduces the list
    (a heading, a colon, "the following", "including"); or it ends with a colon and either
    advises itself or names things to be done ("practical steps for consideration:")."""
    stripped = text.rstrip()
    introduces = kind == "heading" or stripped.endswith(":") or bool(LIST_ANNOUNCERS.search(text))
    if introduces and lexicon.lead_in_pattern.search(text):
        return True
    return stripped.endswith(":") and (cue is not None or bool(lexicon.action_noun_pattern.search(text)))


def list_contexts(
    units: pd.DataFrame, cues: Sequence[Cue | None], lexicon: CueLexicon
) -> list[ListContext | None]:
    """For every unit, the context of the list it is an item of (None for non-items).

    The lead-in of a list is the unit just before its first item; a nested list's lead-in is
    its parent item, and a nested item also inherits its parent list's status."""
    contexts: list[ListContext | None] = []
    stack: list[tuple[int, ListContext]] = []
    previous: int | None = None
    kinds, texts, levels = list(units["kind"]), list(units["text"]), [_level(v) for v in units["level"]]
    for i, kind in enumerate(kinds):
        if kind != "list_item":
            stack, previous = [], i
            contexts.append(None)
            continue
        if not stack:
            announced = previous is not None and announces_recommendations(
                texts[previous], kinds[previous], cues[previous], lexicon
            )
            stack.append((levels[i], ListContext(announced, previous)))
        elif levels[i] > stack[-1][0]:
            parent = i - 1
            announced = stack[-1][1].announces or announces_recommendations(
                texts[parent], kinds[parent], cues[parent], lexicon
            )
            stack.append((levels[i], ListContext(announced, parent)))
        else:
            while len(stack) > 1 and levels[i] < stack[-1][0]:
                stack.pop()
        contexts.append(stack[-1][1])
    return contexts


def _level(value: str | int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@dataclass(frozen=True)
class Candidate:
    """A unit the detector weighs: its place in the document, cue, list and features."""

    position: int
    cue: Cue | None
    context: ListContext | None
    features: dict[str, float]


def candidate_units(units: pd.DataFrame, docs: Sequence[Doc], lexicon: CueLexicon) -> list[Candidate]:
    """Every unit that may be a recommendation (not a heading, boilerplate, excluded line or
    the lead-in of an announced list), with its detector features."""
    cues = [doc._.cue for doc in docs]
    contexts = list_contexts(units, cues, lexicon)
    # A lead-in ("Participants urged the Committee to:") is borderline by the guidelines;
    # its items carry the recommendations, so it is not one itself.
    lead_ins = {c.lead_in for c in contexts if c is not None and c.announces and c.lead_in is not None}
    lead_ins -= {i for i, c in enumerate(contexts) if c is not None}  # a parent item still counts
    kinds, texts = list(units["kind"]), list(units["text"])
    sections = list(units["section"])
    candidates = []
    for position, (doc, cue, context) in enumerate(zip(docs, cues, contexts, strict=True)):
        kind, text = kinds[position], texts[position]
        if position in lead_ins or kind in lexicon.excluded_kinds or lexicon.excluded(text):
            continue
        lead_in = context.lead_in if context is not None else None
        layout = Layout(
            kind=kind,
            in_list=context is not None,
            announced=context is not None and context.announces,
            lead_in_advises=lead_in is not None and cues[lead_in] is not None,
            # under a "Recommendations" heading, unless a list's own lead-in says otherwise
            section_announces=bool(lexicon.lead_in_pattern.search(str(sections[position] or "")))
            and (lead_in is None or kinds[lead_in] == "heading"),
            nested=_level(units["level"].iat[position]) > 0,
        )
        features = unit_features(doc, cue, layout, lexicon)
        if lead_in is not None:
            lead_in_layout = Layout(kinds[lead_in], section_announces=layout.section_announces)
            features |= lead_in_features(unit_features(docs[lead_in], cues[lead_in], lead_in_layout, lexicon))
        candidates.append(Candidate(position, cue, context, features))
    return candidates


def cue_name(candidate: Candidate) -> str:
    """What marked the unit: the cue word (``imperative`` for an imperative), ``list`` for an
    item of an announced list, ``model`` when only the detector's other features did."""
    if candidate.cue is not None:
        return candidate.cue.cue
    if candidate.context is not None and candidate.context.announces:
        return "list"
    return "model"


def document_recommendations(
    doc_id: str,
    units: pd.DataFrame,
    docs: Sequence[Doc],
    lexicon: CueLexicon,
    actors: ActorLexicon,
    model: RecommendationModel,
) -> list[dict]:
    """The recommendation units of one document (``units`` in text order, one Doc each):
    those the detector scores at or above its threshold."""
    rows: list[dict] = []
    cues = [doc._.cue for doc in docs]
    previous_block, previous_actor = None, UNSPECIFIED
    for candidate in candidate_units(units, docs, lexicon):
        score = model.score(candidate.features)
        if score < model.threshold:
            continue
        unit = units.iloc[candidate.position]
        cue, context = candidate.cue, candidate.context
        block = unit.get("block")
        if block != previous_block:
            previous_block, previous_actor = block, UNSPECIFIED
        lead_in_cue = cues[context.lead_in] if context is not None and context.lead_in is not None else None
        addressed = cue is None or cue.addressed
        advised = cue is not None and cue.rule in {"advice", "operative"}  # "recommended to States"
        doc, phrase = docs[candidate.position], cue.actor_phrase if cue else ""
        actor = (
            actors.actor_in(phrase, recipients=advised, modifier_ends=actors.modifier_ends(doc, phrase))
            or (
                None
                if cue is not None and cue.rule == "imperative" or not addressed
                else actors.actor_in(
                    doc.text,
                    proposers=False,
                    recipients=False,
                    modifier_ends=actors.modifier_ends(doc, doc.text),
                )
            )
            or actors.actor_in(lead_in_cue.actor_phrase if lead_in_cue else "")  # "urged the Committee to:"
            or (previous_actor if unit.kind == "list_item" and previous_actor != UNSPECIFIED else None)
            or actors.server_of(unit.text)
            or (actors.default if addressed else UNSPECIFIED)
        )
        previous_actor = actor  # "- One way ... Each meeting could ...": one bullet, one actor
        rows.append(
            {
                "doc_id": doc_id,
                "unit_id": unit.unit_id,
                "text": unit.text,
                "actor": actor,
                "cue": cue_name(candidate),
                "kind": unit.kind,
                "section": unit.section,
                "rule": "list"
                if context is not None and context.announces
                else (cue.rule if cue else "model"),
                "score": round(score, 4),
            }
        )
    return rows
