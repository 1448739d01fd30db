"""Terms of a unit: spaCy lemmas of content words and the noun phrases they form.

Themes, keyness and recurrence all compare units by the same terms, so they are extracted
once. Single lemmas alone make poor theme labels ("regional", "benefit"); noun phrases built
from the dependency parse ("regional coordinator", "dual benefit model", "member state") give
labels a reader recognises and carry more meaning when two recommendations are compared.
Domain stop words (``pipeline/data/theme_stopwords.txt``) drop what every 1540 memo says
("resolution", "participant") and so separates nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipeline.knowledge import data_path

if TYPE_CHECKING:  # spaCy is imported only where units are parsed (recurrence and the
    # report import this module for UnitTerms and must stay cheap to import)
    from spacy.language import Language
    from spacy.tokens import Doc, Token

CONTENT_POS = frozenset({"NOUN", "PROPN", "ADJ"})
MODIFIER_DEPS = frozenset({"amod", "compound", "nmod", "nn"})
# "regional/subregional" and "Non-Proliferation" are two words each for the parser.
_JOINED = re.compile(r"(?<=[A-Za-z])[/\u2013\u2014](?=[A-Za-z])")
_SPACES = re.compile(r"\s+")


def load_word_list(name: str) -> frozenset[str]:
    """A packaged word list: one entry a line, ``#`` starts a comment, case-folded."""
    words = set()
    for line in data_path(name).read_text(encoding="utf-8").splitlines():
        entry = line.split("#", 1)[0].strip().lower()
        if entry:
            words.add(entry)
    return frozenset(words)


def prepare(text: str) -> str:
    """Text as the parser should see it: slashes between words become separate words."""
    return _SPACES.sub(" ", _JOINED.sub(" / ", text)).strip()


@dataclass
class UnitTerms:
    """What one unit is about: content-word lemmas, verb lemmas and noun phrases."""

    words: list[str] = field(default_factory=list)
    verbs: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    surfaces: list[str] = field(default_factory=list)  # each phrase as written ("member states")
    # "such positions", "these organizations": the unit leans on the sentences before it
    anaphoric: bool = False

    @property
    def nominal(self) -> list[str]:
        """Words and phrases: the vocabulary of themes and keyness."""
        return self.words + self.phrases


class TermExtractor:
    """Turns unit texts into :class:`UnitTerms` with one spaCy pipeline (no NER needed)."""

    def __init__(self, nlp: Language, stopwords: Iterable[str] = (), batch_size: int = 64) -> None:
        self.nlp = nlp
        self.stopwords = frozenset(w.lower() for w in stopwords)
        self.batch_size = batch_size
        lemmatizer = nlp.get_pipe("lemmatizer") if "lemmatizer" in nlp.pipe_names else None
        tables = getattr(lemmatizer, "lookups", None)
        self._noun_index: frozenset[str] = frozenset()
        self._noun_rules: list[list[str]] = []
        if tables is not None and tables.has_table("lemma_index"):
            self._noun_index = frozenset(tables.get_table("lemma_index").get("noun", []))
            self._noun_rules = list(tables.get_table("lemma_rules").get("noun", []))

    def extract(self, texts: Sequence[str], n_process: int = 1) -> list[UnitTerms]:
        docs = self.nlp.pipe(
            (prepare(t) for t in texts), batch_size=self.batch_size, n_process=max(1, n_process)
        )
        return [self._terms(doc) for doc in docs]

    # ------------------------------------------------------------------ internals

    def _terms(self, doc: Doc) -> UnitTerms:
        _merge_hyphenated(doc)
        terms = UnitTerms(anaphoric=_is_anaphoric(doc))
        for token in doc:
            if not self._keep(token):
                continue
            if token.pos_ in CONTENT_POS:
                terms.words.append(self.norm(token))
            elif token.pos_ == "VERB":
                terms.verbs.append(self.norm(token))
        for chunk in doc.noun_chunks:
            for phrase, surface in self._phrases(chunk):
                terms.phrases.append(phrase)
                terms.surfaces.append(surface)
        return terms

    def _keep(self, token: Token) -> bool:
        if not token.text.replace("-", "").isalpha() or len(token.text) < 3 or token.is_stop:
            return False
        return token.lower_ not in self.stopwords and self.norm(token) not in self.stopwords

    def norm(self, token: Token) -> str:
        """Lemma, except: adjectives keep their form ("best", not "good"); proper-noun
        plurals are reduced like nouns ("Member States" -> "member state")."""
        if "-" in token.text:  # a merged compound: "self-interest" -> "self interest"
            *first, last = token.lower_.split("-")
            if token.pos_ in {"NOUN", "PROPN"}:
                last = self._noun_lemma(last)
            return " ".join([*first, last])
        if token.pos_ == "ADJ":
            return token.lower_
        if token.pos_ == "PROPN":
            return self._noun_lemma(token.lower_)
        return token.lemma_.lower()

    def _noun_lemma(self, word: str) -> str:
        """Plural proper nouns the tagger left alone ("States"), reduced by spaCy's own
        noun rules, but only to a form spaCy knows as a noun ("Honduras" stays)."""
        if not self._noun_index or word in self._noun_index:
            return word
        for old, new in self._noun_rules:
            if old and word.endswith(old):
                candidate = word[: len(word) - len(old)] + new
                if candidate in self._noun_index:
                    return candidate
        return word

    def _phrases(self, chunk) -> list[tuple[str, str]]:
        """Modifier + head pairs inside a noun chunk, and modifier chains of three.

        "regional and subregional organizations" gives "regional organization" and
        "subregional organization"; "the dual benefit model" gives "benefit model",
        "dual benefit" and "dual benefit model".
        """
        found: list[tuple[str, str]] = []
        inside = {t.i for t in chunk}
        for head in chunk:
            if head.pos_ not in {"NOUN", "PROPN"} or not self._keep(head):
                continue
            for mod in self._modifiers(head, inside):
                found.append((f"{self.norm(mod)} {self.norm(head)}", f"{mod.lower_} {head.lower_}"))
                for inner in self._modifiers(mod, inside):
                    found.append(
                        (
                            f"{self.norm(inner)} {self.norm(mod)} {self.norm(head)}",
                            f"{inner.lower_} {mod.lower_} {head.lower_}",
                        )
                    )
                    if inner.pos_ == mod.pos_ == "ADJ":
                        # stacked adjectives ("regional/subregional organizations") each
                        # modify the noun: also "regional organization"
                        found.append(
                            (f"{self.norm(inner)} {self.norm(head)}", f"{inner.lower_} {head.lower_}")
                        )
        return found

    def _modifiers(self, head: Token, inside: set[int]) -> list[Token]:
        mods = []
        for child in head.children:
            if child.i not in inside or child.dep_ not in MODIFIER_DEPS or child.i > head.i:
                continue
            if child.pos_ in CONTENT_POS and self._keep(child):
                mods.append(child)
                mods.extend(
                    c for c in child.children
                    if c.dep_ == "conj" and c.i in inside and c.pos_ in CONTENT_POS and self._keep(c)
                )  # fmt: skip
        return mods


def display_table(units: Iterable[UnitTerms]) -> dict[str, str]:
    """How each phrase was written most often (ties: alphabetically), so that labels read
    "member states", not the lemma "member state"; other terms are shown as they are."""
    counts: dict[str, Counter[str]] = {}
    for unit in units:
        for phrase, surface in zip(unit.phrases, unit.surfaces, strict=True):
            counts.setdefault(phrase, Counter())[surface] += 1
    return {t: min(c.items(), key=lambda item: (-item[1], item[0]))[0] for t, c in counts.items()}


ANAPHORS = frozenset({"such", "this", "these", "those", "it", "they", "its", "their"})


def _is_anaphoric(doc: Doc) -> bool:
    """Whether the unit refers back ("such positions", "These organizations ...",
    "It revolves around ..."): then the sentences before it say what it is about."""
    for token in doc:
        if token.lower_ in {"such", "this", "these", "those"} and token.dep_ in {"det", "amod", "predet"}:
            return True
    first = next((t for t in doc if not t.is_punct), None)
    return first is not None and first.lower_ in ANAPHORS


def _merge_hyphenated(doc: Doc) -> None:
    """Merge "self-interest", "dual-benefit", "South-South" into one token each, so that
    "self-interest" does not count as "interest"; the merged token keeps the parse of the
    compound's head."""
    spans = []
    i = 0
    while i < len(doc) - 2:
        a, dash, b = doc[i], doc[i + 1], doc[i + 2]
        if (
            dash.text == "-" and not a.whitespace_ and not dash.whitespace_
            and a.is_alpha and b.is_alpha
        ):  # fmt: skip
            end = i + 3
            while (
                end < len(doc) - 1
                and doc[end].text == "-"
                and not doc[end - 1].whitespace_
                and not doc[end].whitespace_
                and doc[end + 1].is_alpha
            ):
                end += 2
            spans.append(doc[i:end])
            i = end
        else:
            i += 1
    if spans:
        with doc.retokenize() as retokenizer:
            for span in spans:
                retokenizer.merge(span)
