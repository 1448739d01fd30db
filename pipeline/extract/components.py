"""spaCy components of the extract pipeline, each with one job, registered by name.

Order in the pipeline (see ``nlp_pipeline.build_pipeline``)::

    unit_gates -> syntax (gated: tok2vec, tagger, parser) -> gazetteer_matcher
    -> model_ner (gated: ner) -> acronym_finder -> entity_resolver -> recommendation_cue

The statistical components are wrapped in ``gated_pipes`` so that they run only on units
whose result can be used: the parser only where a recommendation cue word occurs, the
model's NER only where an organization head word occurs. That is where the speed comes from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans, minibatch

from pipeline.extract.acronyms import find_definitions
from pipeline.extract.cues import CueLexicon, find_cue, imperative_probe
from pipeline.extract.gazetteer import Knowledge, load_knowledge, looks_like_code, reads_as_org_name

for _name, _default in (
    ("kind", ""),
    ("needs_syntax", False),
    ("needs_ner", False),
    ("cue", None),
    ("acronyms", ()),
):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=_default)

QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|«[^»]*»")
POSSESSIVE = {"'s", "’s", "'", "’"}


# --------------------------------------------------------------------------- gates


class UnitGates:
    """Marks which units need the parser and which the model's NER."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.lexicon = CueLexicon(knowledge.cues)
        heads = knowledge.rules.get("org", {}).get("head_words", [])
        self.org_heads = re.compile(r"\b(?:" + "|".join(map(re.escape, heads)) + r")\b") if heads else None

    def __call__(self, doc: Doc) -> Doc:
        text = doc.text
        doc._.needs_syntax = self.lexicon.needs_parse(text, doc._.kind)
        doc._.needs_ner = self.org_heads is not None and self.org_heads.search(text) is not None
        return doc


@Language.factory("unit_gates", default_config={"data_dir": ""})
def make_unit_gates(nlp: Language, name: str, data_dir: str) -> UnitGates:
    gates = UnitGates(load_knowledge(data_dir or None))
    gates.lexicon.base_verbs = base_verb_forms(nlp)
    return gates


def base_verb_forms(nlp: Language) -> frozenset[str]:
    """The base forms of English verbs the model's lemmatizer tables list (``lemma_index``):
    a unit opening with one may be an imperative, worth a parse. Empty when the model has none."""
    from spacy.lookups import Lookups

    folder = Path(nlp.path) / "lemmatizer" / "lookups" if nlp.path else None
    if folder is None or not folder.is_dir():
        return frozenset()
    index = Lookups().from_disk(folder).get_table("lemma_index", {})
    return frozenset(index.get("verb", []))


class GatedPipes:
    """Runs the named (disabled) pipeline components only on docs whose gate flag is set."""

    def __init__(self, nlp: Language, pipes: list[str], gates: list[str]) -> None:
        self.nlp = nlp
        self.pipes = list(pipes)
        self.gates = list(gates)

    def _wanted(self, doc: Doc) -> bool:
        return any(doc._.get(gate) for gate in self.gates)

    def _run(self, docs: list[Doc], batch_size: int) -> None:
        for name in self.pipes:
            component = self.nlp.get_pipe(name)
            if hasattr(component, "pipe"):
                docs = list(component.pipe(docs, batch_size=batch_size))
            else:
                docs = [component(doc) for doc in docs]

    def __call__(self, doc: Doc) -> Doc:
        if self._wanted(doc):
            self._run([doc], 1)
        return doc

    def pipe(self, stream: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for batch in minibatch(stream, batch_size):
            selected = [doc for doc in batch if self._wanted(doc)]
            if selected:
                self._run(selected, batch_size)
            yield from batch


@Language.factory("gated_pipes", default_config={"pipes": [], "gates": []})
def make_gated_pipes(nlp: Language, name: str, pipes: list[str], gates: list[str]) -> GatedPipes:
    return GatedPipes(nlp, pipes, gates)


# --------------------------------------------------------------------------- gazetteer


class GazetteerMatcher:
    """Every organization, country, region (and blocking place name) of the knowledge files,
    matched case-sensitively into ``doc.spans["gazetteer"]``, overlaps included."""

    def __init__(self, nlp: Language, knowledge: Knowledge) -> None:
        from spacy.matcher import PhraseMatcher

        self.matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.targets: list[tuple[str, str, str]] = []
        index: dict[tuple[str, str, str], int] = {}
        patterns: dict[int, list[str]] = {}
        for entry in knowledge.entries:
            key = (entry.label, entry.canonical, entry.iso3)
            if key not in index:
                index[key] = len(self.targets)
                self.targets.append(key)
            patterns.setdefault(index[key], []).append(entry.phrase)
        for target, phrases in patterns.items():
            self.matcher.add(str(target), list(nlp.tokenizer.pipe(dict.fromkeys(phrases))))
        self.strings = nlp.vocab.strings

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for match_id, start, end in self.matcher(doc):
            label, canonical, iso3 = self.targets[int(self.strings[match_id])]
            spans.append(Span(doc, start, end, label=label, kb_id=iso3, span_id=canonical))
        doc.spans["gazetteer"] = spans
        return doc


@Language.factory("gazetteer_matcher", default_config={"data_dir": ""})
def make_gazetteer_matcher(nlp: Language, name: str, data_dir: str) -> GazetteerMatcher:
    return GazetteerMatcher(nlp, load_knowledge(data_dir or None))


# --------------------------------------------------------------------------- acronyms


@Language.component("acronym_finder")
def acronym_finder(doc: Doc) -> Doc:
    """Acronyms the text defines ("Organization of American States (OAS)")."""
    if "(" in doc.text:
        doc._.acronyms = tuple(find_definitions(doc.text))
    return doc


# --------------------------------------------------------------------------- resolution


class EntityResolver:
    """One clean entity list per unit in ``doc.ents``: ORG, COUNTRY, REGION.

    Gazetteer matches win over the model, longest first. A model ORG span is kept only when
    it reads like a name ("National University of Malaysia"): title case, an organization
    head word, not a heading, not inside a quoted title, not a bare generic word. A country
    or region named inside an organization's name is not a mention of it, and a body named
    just before "Resolution" is naming a document. Codes ("US", "IAEA") are not read inside
    all-capital text. ``span.id_`` holds the canonical name, ``span.kb_id_`` the ISO3 code.
    """

    def __init__(self, knowledge: Knowledge) -> None:
        org = knowledge.rules.get("org", {})
        self.rules = knowledge.rules
        self.strip_leading = set(org.get("strip_leading", []))
        self.followers = set(org.get("document_followers", []))
        self.known_orgs = knowledge.org_names

    def __call__(self, doc: Doc) -> Doc:
        shouting = not any(c.islower() for c in doc.text)
        gazetteer = filter_spans(
            [s for s in doc.spans.get("gazetteer", []) if not (shouting and looks_like_code(s.text))]
        )
        gazetteer = [s for s in gazetteer if not (s.label_ == "ORG" and self._names_document(s))]
        model = [
            s for s in (self._clean_model_org(e) for e in doc.ents if e.label_ == "ORG") if s is not None
        ]
        kept_model = []
        for span in model:
            overlapping = [g for g in gazetteer if g.start < span.end and span.start < g.end]
            if any(g.label_ == "ORG" for g in overlapping):
                continue
            if all(
                span.start <= g.start and g.end <= span.end and (g.start, g.end) != (span.start, span.end)
                for g in overlapping
            ):
                gazetteer = [g for g in gazetteer if g not in overlapping]
                kept_model.append(span)
        final = sorted(
            filter_spans([s for s in gazetteer if s.label_ != "PLACE"] + kept_model), key=lambda s: s.start
        )
        doc.ents = final
        doc.spans["model_orgs"] = [s for s in kept_model if s in final]
        return doc

    def _names_document(self, span: Span) -> bool:
        return span.end < len(span.doc) and span.doc[span.end].text in self.followers

    def _clean_model_org(self, ent: Span) -> Span | None:
        doc = ent.doc
        if doc._.kind == "heading":
            return None
        start, end = ent.start, ent.end
        while start < end and doc[start].text in self.strip_leading:
            start += 1
        while end > start and (doc[end - 1].text in POSSESSIVE or doc[end - 1].is_punct):
            end -= 1
        words = doc[start:end]
        if not reads_as_org_name([t.text for t in words], self.rules) or self._names_document(words):
            return None
        if any(m.start() <= words.start_char < m.end() for m in QUOTED.finditer(doc.text)):
            return None
        canonical = self.known_orgs.get(words.text.lower(), words.text)
        return Span(doc, start, end, label="ORG", span_id=canonical)


@Language.factory("entity_resolver", default_config={"data_dir": ""})
def make_entity_resolver(nlp: Language, name: str, data_dir: str) -> EntityResolver:
    return EntityResolver(load_knowledge(data_dir or None))


# --------------------------------------------------------------------------- recommendations


class RecommendationCue:
    """``doc._.cue``: why the unit reads as a recommendation (parsed units only).

    The small model often tags a unit's first word as a noun where it is an imperative verb
    ("Fund people, not events."). A unit that reads as verbless gets a second look: its
    text after "You should" is parsed, and the unit is an imperative when its first word
    then parses as the verb (``cues.imperative_probe``)."""

    def __init__(self, nlp: Language, knowledge: Knowledge) -> None:
        self.lexicon = CueLexicon(knowledge.cues)
        self.nlp = nlp
        self.syntax = [name for name in ("tok2vec", "tagger", "parser") if name in nlp.component_names]

    def _parse(self, text: str) -> Doc:
        doc = self.nlp.make_doc(text)
        for name in self.syntax:
            doc = self.nlp.get_pipe(name)(doc)
        return doc

    def __call__(self, doc: Doc) -> Doc:
        if doc._.needs_syntax and doc.has_annotation("DEP"):
            doc._.cue = find_cue(doc, self.lexicon) or imperative_probe(doc, self._parse, self.lexicon)
        return doc


@Language.factory("recommendation_cue", default_config={"data_dir": ""})
def make_recommendation_cue(nlp: Language, name: str, data_dir: str) -> RecommendationCue:
    return RecommendationCue(nlp, load_knowledge(data_dir or None))
