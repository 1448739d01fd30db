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
from pipeline.extract.gazetteer import (
    Knowledge,
    governing_head,
    load_knowledge,
    strip_article,
    title_cased,
)

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

    lexicon: CueLexicon
    org_heads: re.Pattern[str] | None

    def initialize(self, get_examples=None, *, nlp: Language, knowledge: Knowledge | None = None) -> None:
        """Cue words and organization head words from the knowledge files (the package's
        when none is given), and the base verb forms of ``nlp``'s lemmatizer tables."""
        knowledge = knowledge or load_knowledge()
        self.lexicon = CueLexicon(knowledge.cues)
        self.lexicon.base_verbs = base_verb_forms(nlp)
        heads = knowledge.rules.get("org", {}).get("head_words", [])
        self.org_heads = re.compile(r"\b(?:" + "|".join(map(re.escape, heads)) + r")\b") if heads else None

    def __call__(self, doc: Doc) -> Doc:
        text = doc.text
        doc._.needs_syntax = self.lexicon.needs_parse(text, doc._.kind)
        doc._.needs_ner = self.org_heads is not None and self.org_heads.search(text) is not None
        return doc


@Language.factory("unit_gates")
def make_unit_gates(nlp: Language, name: str) -> UnitGates:
    return UnitGates()


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
    matched case-sensitively into ``doc.spans["gazetteer"]``, overlaps included. In text
    without a lower-case letter (a letterhead, an address) names are matched whatever their
    case ("UNITED STATES"), codes and acronyms not ("US", "CONTACT US")."""

    def __init__(self, nlp: Language) -> None:
        from spacy.matcher import PhraseMatcher

        self.matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.any_case = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.targets: list[tuple[str, str, str]] = []
        self.strings = nlp.vocab.strings

    def initialize(self, get_examples=None, *, nlp: Language, knowledge: Knowledge | None = None) -> None:
        """The phrases of every knowledge file (the package's when none is given)."""
        from spacy.matcher import PhraseMatcher

        knowledge = knowledge or load_knowledge()
        self.matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.any_case = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.targets = []
        index: dict[tuple[str, str, str], int] = {}
        patterns: dict[int, list[str]] = {}
        names: dict[int, list[str]] = {}
        for entry in knowledge.entries:
            key = (entry.label, entry.canonical, entry.iso3)
            if key not in index:
                index[key] = len(self.targets)
                self.targets.append(key)
            patterns.setdefault(index[key], []).append(entry.phrase)
            if not entry.is_code:
                names.setdefault(index[key], []).append(entry.phrase)
        for target, phrases in patterns.items():
            self.matcher.add(str(target), list(nlp.tokenizer.pipe(dict.fromkeys(phrases))))  # type: ignore[union-attr]
        for target, phrases in names.items():
            self.any_case.add(str(target), list(nlp.tokenizer.pipe(dict.fromkeys(phrases))))  # type: ignore[union-attr]

    def __call__(self, doc: Doc) -> Doc:
        shouting = not any(c.islower() for c in doc.text)
        matches = self.any_case(doc) if shouting else self.matcher(doc)
        spans = []
        for match_id, start, end in matches:
            label, canonical, iso3 = self.targets[int(self.strings[match_id])]
            spans.append(Span(doc, start, end, label=label, kb_id=iso3, span_id=canonical))
        doc.spans["gazetteer"] = spans
        return doc


@Language.factory("gazetteer_matcher")
def make_gazetteer_matcher(nlp: Language, name: str) -> GazetteerMatcher:
    return GazetteerMatcher(nlp)


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

    Gazetteer matches win over the model, longest first. Organizations the gazetteer does not
    know come from title-case runs around an organization head word ("National Nuclear
    Regulator", "Ministry of Foreign Affairs of Kenya") and from the model's ORG spans
    outside them. Such a span is kept only when it reads like a name: title case, an
    organization head word, not in a title-case heading, not inside a quoted title, not a bare
    generic word; it is cut before an acronym in parentheses, before "of <country>'s"
    (the country owns the next body) and before a state that follows a complete name
    ("Ministry of Foreign Affairs of Kenya"). A country or region named inside an organization's name
    is not a mention of it, and a body named just before "Resolution" is naming a document.
    ``span.id_`` holds the canonical name, ``span.kb_id_`` the ISO3 code.
    """

    def initialize(
        self, get_examples=None, *, nlp: Language | None = None, knowledge: Knowledge | None = None
    ) -> None:
        """Cleaning rules and known names from the knowledge files (the package's when none
        is given)."""
        knowledge = knowledge or load_knowledge()
        org = knowledge.rules.get("org", {})
        self.rules = knowledge.rules
        self.strip_leading = set(org.get("strip_leading", []))
        self.followers = set(org.get("document_followers", []))
        self.known_orgs = knowledge.org_names
        self.countries = knowledge.country_names
        self.regions = knowledge.region_names
        self.name_pattern = head_word_pattern(org)
        self.heads = set(org.get("head_words", []))
        self.connectors = set(org.get("connectors", []))
        self.links = self.connectors - {"and", "&", "the"}

    def __call__(self, doc: Doc) -> Doc:
        gazetteer = filter_spans(doc.spans.get("gazetteer", []))
        gazetteer = [s for s in gazetteer if not (s.label_ == "ORG" and self._names_document(s))]
        model_orgs = [t for t in (self._trimmed(e) for e in doc.ents if e.label_ == "ORG") if t is not None]
        runs = [
            r
            for r in self._head_word_spans(doc)
            if all(self._extends(r, m) for m in model_orgs if r.start < m.end and m.start < r.end)
        ]
        candidates = [m for m in model_orgs if not any(r.start < m.end and m.start < r.end for r in runs)]
        candidates += runs
        parts = [part for span in candidates for part in self._split_joined(span)]
        model = [s for s in (self._clean_model_org(e) for e in parts) if s is not None]
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

    def _head_word_spans(self, doc: Doc) -> list[Span]:
        """Title-case runs around a head word; where one holds a model ORG span, the run
        is the name (the small model often stops early: "Moroccan Agency" of "Moroccan Agency
        for Nuclear and Radiological Safety")."""
        if self.name_pattern is None or not doc._.needs_ner:
            return []
        spans = (
            doc.char_span(*m.span(), alignment_mode="contract") for m in self.name_pattern.finditer(doc.text)
        )
        trimmed = (self._trimmed(span) for span in spans if span is not None)
        return [span for span in trimmed if span is not None]

    def _extends(self, run: Span, model_span: Span) -> bool:
        """Does the title-case run hold the model's span and carry it on through "of", "for" …
        ("the Moroccan Agency for" -> "Moroccan Agency for Nuclear Safety"), or finish a span
        that stops on a connector ("… Co-operation and")? Not through a next capitalised word
        or "and" ("Department of Trade Date and Venue", a field label)."""
        doc, start, end = model_span.doc, model_span.start, model_span.end
        if not (run.start <= start and end <= run.end):
            return False
        return run.end == end or doc[end - 1].text in self.connectors or doc[end].text in self.links

    def _trimmed(self, ent: Span) -> Span | None:
        """The span without leading "the" and such, cut before a parenthesis."""
        doc, start = ent.doc, ent.start
        end = next((t.i for t in ent if t.text == "("), ent.end)
        while start < end and doc[start].text in self.strip_leading:
            start += 1
        return doc[start:end] if start < end else None

    def _split_joined(self, span: Span) -> list[Span]:
        """Two bodies joined by "and" ("Ministry of Defence and Customs Service") as two spans;
        one name with "and" inside ("Office of Science and Technology") as it is."""
        for token in span:
            if token.text in {"and", "&"} and token.i > span.start:
                before, after = span.doc[span.start : token.i], span.doc[token.i + 1 : span.end]
                if self.heads & {t.text for t in before} and self.heads & {t.text for t in after}:
                    return [before, after]
        return [span]

    def _names_document(self, span: Span) -> bool:
        return span.end < len(span.doc) and span.doc[span.end].text in self.followers

    def _clean_model_org(self, ent: Span) -> Span | None:
        doc = ent.doc
        if doc._.kind == "heading" and title_cased([t.text for t in doc], self.rules):
            return None
        start, end = ent.start, ent.end
        while end > start and (
            doc[end - 1].text in POSSESSIVE or doc[end - 1].is_punct or doc[end - 1].text in self.connectors
        ):
            end -= 1
        end = self._before_owner_country(doc, start, end)
        end = self._before_location(doc, start, end)
        words = doc[start:end]
        head = governing_head([t.text for t in words], self.rules)
        if head is None or self._names_document(words):
            return None
        if any(m.start() <= words.start_char < m.end() for m in QUOTED.finditer(doc.text)):
            return None
        canonical = self.known_orgs.get(words.text.lower(), words.text)
        return Span(doc, start, end, label="ORG", span_id=canonical)

    def _before_location(self, doc: Doc, start: int, end: int) -> int:
        """Where a name ends before "in <place>" that is no country or region ("Global Forum
        on Strategic Trade in Brussels"); "Co-operation in Europe" stays in the name."""
        for i in range(end - 2, start, -1):
            if doc[i].text == "in":
                place = strip_article(doc[i + 1 : end].text).lower()
                return end if place in self.countries or place in self.regions else i
        return end

    def _before_owner_country(self, doc: Doc, start: int, end: int) -> int:
        """Where a body's name ends when a state follows as its owner, which then counts as a
        mention: "Office of Export Licensing" of "… of Chile's Ministry" (the state owns
        the next body), "Ministry of Foreign Affairs" of "… of Affairs of Kenya" (a complete
        name, then its state). In "Bank of Ghana" or "Customs Service of Ghana" the state is
        part of the name."""
        owned_next = end < len(doc) and doc[end].text in POSSESSIVE
        for i in range(end - 2, start, -1):
            if doc[i].text == "of" and strip_article(doc[i + 1 : end].text).lower() in self.countries:
                complete = any(t.text in self.links for t in doc[start + 1 : i])
                return i if owned_next or complete else end
        return end


def head_word_pattern(org_rules: dict) -> re.Pattern[str] | None:
    """Up to five capitalised words or numbers ("1540"), an organization head word, then up
    to two "of/for/on …" groups of capitalised words ("Ministry of Science and Technology").
    A possessive ends a word: "Ghana's Ministry" is not one name."""
    heads = org_rules.get("head_words", [])
    if not heads:
        return None
    word = r"[A-Z][\w&.\-]*"
    links = r"(?:of|for|on|against|in)"
    group = rf"\s+{links}\s+(?:the\s+)?{word}(?:\s+(?:and\s+|&\s+)?{word})*"
    head = "|".join(re.escape(h) for h in sorted(heads, key=len, reverse=True))
    return re.compile(rf"(?<![\w'’])(?:(?:{word}|[0-9]+)\s+){{0,5}}(?:{head})\b(?![’'])(?:{group}){{0,2}}")


@Language.factory("entity_resolver")
def make_entity_resolver(nlp: Language, name: str) -> EntityResolver:
    return EntityResolver()


# --------------------------------------------------------------------------- recommendations


class RecommendationCue:
    """``doc._.cue``: why the unit reads as a recommendation (parsed units only).

    The small model often tags a unit's first word as a noun where it is an imperative verb
    ("Fund people, not events."). A unit that reads as verbless gets a second look: its
    text after "You should" is parsed, and the unit is an imperative when its first word
    then parses as the verb (``cues.imperative_probe``)."""

    lexicon: CueLexicon

    def __init__(self, nlp: Language) -> None:
        self.nlp = nlp
        self.syntax = [name for name in ("tok2vec", "tagger", "parser") if name in nlp.component_names]

    def initialize(
        self, get_examples=None, *, nlp: Language | None = None, knowledge: Knowledge | None = None
    ) -> None:
        """The cue lexicon from the knowledge files (the package's when none is given)."""
        self.lexicon = CueLexicon((knowledge or load_knowledge()).cues)

    def _parse(self, text: str) -> Doc:
        doc = self.nlp.make_doc(text)
        for name in self.syntax:
            doc = self.nlp.get_pipe(name)(doc)
        return doc

    def __call__(self, doc: Doc) -> Doc:
        if doc._.needs_syntax and doc.has_annotation("DEP"):
            doc._.cue = find_cue(doc, self.lexicon) or imperative_probe(doc, self._parse, self.lexicon)
        return doc


@Language.factory("recommendation_cue")
def make_recommendation_cue(nlp: Language, name: str) -> RecommendationCue:
    return RecommendationCue(nlp)
