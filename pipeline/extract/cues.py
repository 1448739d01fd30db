"""Reading a recommendation off the dependency parse of one unit.

A unit is a recommendation when its main clause (not a relative or adverbial clause, not a
question) carries a normative modal, a verb of advice, an evaluative frame about an action,
a "one way to ... is ..." frame, or a stated need to act. The words come from
``recommendation_cues.toml``; the structure comes from the parse. Pure functions over spaCy
``Doc`` objects, so the rules can be tested on any sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # spaCy is imported only where documents are processed
    from spacy.tokens import Doc, Token


# Clause relations through which a cue still belongs to the sentence's main assertion.
MAIN_CLAUSE_LINKS = {"ROOT", "conj", "ccomp", "xcomp", "parataxis"}
# Clauses whose content is not asserted as advice: questions and reported doubts.
DOUBT_MARKERS = {"whether", "if"}
PAST_OR_PERFECT_AUX = {"had", "has", "have", "was", "were", "did"}
NEGATIONS = {"not", "n't", "never", "no"}
SUBJECT_DEPS = {"nsubj", "nsubjpass", "csubj", "expl"}
FIRST_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
# "Lee: ", "Recommendation 3: ", or nothing
SPEAKER_LABEL = re.compile(r"[^\W\d][\w.'’-]*(?:\s[\w.'’-]+){0,2}:\s+|")


def after_speaker_label(text: str) -> int:
    """Where a unit's own words begin, after a speaker's name ("Lee: Fund people.")."""
    found = SPEAKER_LABEL.match(text)
    return found.end() if found else 0
YEAR = re.compile(r"(?:19|20)\d\d")


def inflections(lemma: str) -> set[str]:
    """Base, -s, -ed and -ing forms of a regular English verb (enough for cue verbs)."""
    forms = {lemma}
    if lemma.endswith("e"):
        forms |= {lemma + "s", lemma + "d", lemma[:-1] + "ing"}
    elif lemma.endswith("y") and lemma[-2:-1] not in set("aeiou"):
        forms |= {lemma[:-1] + "ies", lemma[:-1] + "ied", lemma + "ing"}
    elif lemma.endswith(("s", "sh", "ch", "x", "z")):
        forms |= {lemma + "es", lemma + "ed", lemma + "ing"}
    else:
        forms |= {lemma + "s", lemma + "ed", lemma + "ing"}
    return forms


@dataclass(frozen=True)
class Cue:
    """What made a unit a recommendation, and the phrase naming who should act."""

    cue: str  # the modal, verb or word, e.g. "should", "encourage", "important"
    rule: str  # modal | advice | evaluative | means | need
    actor_phrase: str = ""
    addressed: bool = True  # False where the grammar names no one ("There is a clear need for X")


class CueLexicon:
    """The cue words of ``recommendation_cues.toml``, expanded and indexed for fast lookup."""

    def __init__(self, cues: dict) -> None:
        modals = cues.get("modals", {})
        self.any_verb_modals = {w.lower() for w in modals.get("any_verb", [])}
        self.modal_verbs = {
            m.lower(): {v.lower() for v in vs} for m, vs in modals.get("with_verbs", {}).items()
        }
        self.would_be_adjectives = {w.lower() for w in modals.get("would_be", {}).get("adjectives", [])}
        advice = cues.get("advice", {})
        self.advice_forms = {
            form: verb for verb in advice.get("verbs", []) for form in inflections(verb.lower())
        }
        self.advice_requires = {
            k.lower(): {w.lower() for w in v} for k, v in advice.get("requires", {}).items()
        }
        self.reported_sources = {
            f for w in advice.get("reported_sources", []) for f in (w.lower(), w.lower() + "s")
        }
        evaluative = cues.get("evaluative", {})
        self.evaluative = {w.lower() for w in evaluative.get("adjectives", [])}
        self.copula_forms = {form for c in evaluative.get("copulas", []) for form in inflections(c)}
        self.copula_forms |= {"is", "are", "was", "were", "be", "been", "being", "'s", "'re"}
        self.means_nouns = {w.lower() for w in evaluative.get("means_nouns", [])}
        self.need_forms = {f for w in cues.get("need", {}).get("words", []) for f in inflections(w)}
        self.exclusions = [re.compile(p) for p in cues.get("exclude", {}).get("patterns", [])]
        self.excluded_kinds = set(cues.get("exclude", {}).get("kinds", []))
        self.base_verbs: frozenset[str] = frozenset()
        detector = cues.get("detector", {})
        self.non_action_verbs = {
            f for w in detector.get("non_action_verbs", []) for f in inflections(w.lower())
        }
        self.operative_verbs = {
            f for w in detector.get("operative_verbs", []) for f in inflections(w.lower())
        }
        self.nominal_frames = {
            word.lower(): frame
            for frame, words in detector.get("nominal_frames", {}).items()
            for word in words
        }
        self.history_words = {w.lower() for w in detector.get("history_words", [])}
        self.action_nouns = {w.lower() for w in detector.get("action_nouns", [])}
        self.threat_agents = {w.lower() for w in detector.get("threat_agents", [])}
        self.possibility_verbs = {w.lower() for w in detector.get("possibility_verbs", [])}
        self.non_verb_openers = {w.lower() for w in detector.get("non_verb_openers", [])}
        lists = cues.get("lists", {})
        self.lead_in_nouns = sorted(
            {n.lower() for n in lists.get("lead_in_nouns", [])}, key=len, reverse=True
        )

    @cached_property
    def trigger_words(self) -> frozenset[str]:
        """Any word that could start a cue: units without one need no parse at all."""
        return frozenset(
            self.any_verb_modals
            | set(self.modal_verbs)
            | set(self.advice_forms)
            | self.evaluative
            | self.means_nouns
            | self.need_forms
            | {w for w, frame in self.nominal_frames.items() if frame in {"time", "proposal"}}
        )

    @cached_property
    def trigger_pattern(self) -> re.Pattern[str]:
        alternatives = "|".join(sorted((re.escape(w) for w in self.trigger_words), key=len, reverse=True))
        return re.compile(rf"(?i)\b(?:{alternatives})\b")

    @cached_property
    def lead_in_pattern(self) -> re.Pattern[str]:
        alternatives = "|".join(re.escape(n) for n in self.lead_in_nouns)
        return re.compile(rf"(?i)\b(?:{alternatives})\b")

    @cached_property
    def action_noun_pattern(self) -> re.Pattern[str]:
        alternatives = "|".join(re.escape(n) for n in sorted(self.action_nouns, key=len, reverse=True))
        return re.compile(rf"(?i)\b(?:{alternatives})\b")

    def excluded(self, text: str) -> bool:
        return any(p.search(text) for p in self.exclusions)

    def needs_parse(self, text: str, kind: str) -> bool:
        """Whether the detector can use this unit's parse: a cue word occurs, or its first
        word may be a verb ("Establish ...", "Calls upon ...") by ``base_verbs`` (the base
        forms of English verbs, set by the pipeline from the model's lemmatizer tables; without
        them every unit not opening with a closed-class word is parsed)."""
        if kind in self.excluded_kinds or self.excluded(text):
            return False
        if (kind == "list_item" and not self.base_verbs) or self.trigger_pattern.search(text) is not None:
            return True
        first = FIRST_WORD.search(text, after_speaker_label(text))
        word = first.group(0).lower() if first is not None else ""
        if not word or word in self.non_verb_openers:
            return False
        return not self.base_verbs or word in self.base_verbs or word in self.operative_verbs


# --------------------------------------------------------------------------- clause structure


def _is_negated(token: Token) -> bool:
    return any(
        c.dep_ == "neg" or c.lower_ in NEGATIONS and c.dep_ in {"neg", "advmod"} for c in token.children
    )


def asserted_clause(verb: Token) -> bool:
    """True when ``verb`` heads the sentence's main assertion or a clause reported by it
    ("Participants agreed that X could ..."), not a relative, adverbial or doubtful clause."""
    token = verb
    for _ in range(12):  # parse trees are shallow; the bound guards against cycles
        if token.dep_ not in MAIN_CLAUSE_LINKS:
            return False
        if token.dep_ == "ccomp" and any(
            c.dep_ == "mark" and c.lower_ in DOUBT_MARKERS for c in token.children
        ):
            return False
        if token.dep_ == "ROOT" or token.head is token:
            return True
        token = token.head
    return False


def _is_past_or_perfect(verb: Token) -> bool:
    """Describes what was or has been ("was critical", "has proven", "had recommended")."""
    if verb.tag_ == "VBD":
        return True
    return any(c.dep_ in {"aux", "auxpass"} and c.lower_ in PAST_OR_PERFECT_AUX for c in verb.children)


def _subtree_text(token: Token | None) -> str:
    if token is None:
        return ""
    return token.doc[token.left_edge.i : token.right_edge.i + 1].text


def _child(token: Token, *deps: str) -> Token | None:
    return next((c for c in token.children if c.dep_ in deps), None)


def _acting_phrase(verb: Token) -> str:
    """Who is to act on ``verb``: its passive agent, else its subject (climbing conjuncts)."""
    agent = _child(verb, "agent")
    if agent is not None:
        return _subtree_text(agent)
    token = verb
    for _ in range(6):
        subject = _child(token, "nsubj", "nsubjpass", "csubj", "csubjpass", "expl")
        if subject is not None and subject.dep_ != "expl" and subject.lower_ != "it":
            return _subtree_text(subject)
        if token.dep_ not in {"conj", "xcomp"} or token.head is token:
            break
        token = token.head
    return ""


# --------------------------------------------------------------------------- the rules


def modal_cue(tokens: Iterable[Token], lexicon: CueLexicon) -> Cue | None:
    for token in tokens:
        word = token.lower_
        if token.dep_ not in {"aux", "auxpass"} and token.tag_ != "MD":
            continue
        verb = token.head if token.dep_ in {"aux", "auxpass"} else token
        if word in lexicon.any_verb_modals:
            pass
        elif verb.lower_ in lexicon.possibility_verbs:
            continue  # "sending data abroad could require a licence": a possibility
        elif any(t.lower_ in lexicon.history_words for t in token.sent):
            continue  # "In the past, exporters could obtain ...": what was possible then
        elif word in lexicon.modal_verbs:
            allowed = lexicon.modal_verbs[word]
            if _is_negated(verb):
                continue
            if "*" not in allowed and verb.lower_ not in allowed:
                continue
            if (
                verb.lower_ == "be"
                and word in {"would", "might"}
                and not _evaluated(verb, lexicon.would_be_adjectives)
            ):
                continue
        else:
            continue
        if not asserted_clause(verb):
            continue
        subject = _child(verb, "nsubj")
        if subject is not None and any(t.lower_ in lexicon.threat_agents for t in subject.subtree):
            continue  # "an attacker could smuggle ...": a threat, not advice
        return Cue(word, "modal", _acting_phrase(verb))
    return None


def _evaluated(copula: Token, adjectives: set[str]) -> bool:
    return any(c.lower_ in adjectives for c in copula.children if c.dep_ in {"acomp", "attr", "oprd"}) or any(
        g.lower_ in adjectives
        for c in copula.children
        if c.dep_ == "attr"
        for g in c.children
        if g.dep_ == "amod"
    )


def advice_cue(tokens: Iterable[Token], lexicon: CueLexicon) -> Cue | None:
    for token in tokens:
        verb = lexicon.advice_forms.get(token.lower_)
        # a finite verb parsed as a modifier is a parse slip ("The Commissioner responsible
        # for ... encouraged member States to ..."): it still heads the sentence
        misattached = token.tag_ == "VBD" and token.dep_ == "amod" and _child(token.head, "nsubj") is None
        if verb is None or not token.tag_.startswith("VB"):
            continue
        if token.dep_ in {"amod", "acl", "relcl"} and not misattached:
            continue
        if _is_negated(token) or any(
            c.lower_ in {"had", "has", "have"} for c in token.children if c.dep_ == "aux"
        ):
            continue
        subject = _child(token, "nsubj")
        if subject is not None and subject.lower_ in lexicon.reported_sources:
            continue
        required = lexicon.advice_requires.get(verb)
        if required and not any(
            t.lower_ in required for t in token.subtree if t.i > token.i and t.i - token.i <= 4
        ):
            continue
        if not misattached and not asserted_clause(token):
            continue
        if token.tag_ in {"VBD", "VBN"} and any(_is_date_year(t) for t in token.sent):
            continue  # "In 2006 the Assembly called on States to ...": the history of a text
        if misattached:  # who is advised follows the verb, in its head's phrase
            return Cue(verb, "advice", token.doc[token.i + 1 : token.head.right_edge.i + 1].text)
        return Cue(verb, "advice", _advised_phrase(token))
    return None


def _is_date_year(token: Token) -> bool:
    """A year as a date ("In 2006"), not as part of a citation ("resolution 1540 (2004)")."""
    return bool(YEAR.fullmatch(token.text)) and (token.i == 0 or token.nbor(-1).text != "(")


def _advised_phrase(verb: Token) -> str:
    """Who is advised: the passive subject ("States are encouraged"), the object of an
    advice with an infinitive ("urge donors to"), or the content of the advice."""
    passive_subject = _child(verb, "nsubjpass")
    if passive_subject is not None:
        return _subtree_text(passive_subject)
    obj = _child(verb, "dobj")
    complement = _child(verb, "xcomp", "ccomp")
    if complement is not None and _child(complement, "nsubj", "nsubjpass") is not None:
        return _subtree_text(_child(complement, "nsubj", "nsubjpass"))
    if obj is not None:
        return _subtree_text(obj)
    prep = _child(verb, "prep")
    if prep is None:
        return _subtree_text(complement)
    end = prep.right_edge.i
    for following in verb.rights:  # "calls upon States | with the means to do so", "| able to"
        if following.i > end and following.left_edge.i == end + 1 and following.dep_ in {"prep", "oprd"}:
            end = following.right_edge.i
    return verb.doc[prep.left_edge.i : end + 1].text


def evaluative_cue(tokens: Iterable[Token], lexicon: CueLexicon) -> Cue | None:
    for token in tokens:
        if token.lower_ not in lexicon.evaluative:
            continue
        frame = token.head if token.dep_ in {"acomp", "oprd"} else None
        if token.dep_ == "amod" and token.head.dep_ == "attr":
            frame = token.head.head
        if frame is None or frame.lower_ not in lexicon.copula_forms or not asserted_clause(frame):
            continue
        modal = _child(frame, "aux")
        future = modal is not None and modal.tag_ == "MD"
        if _is_past_or_perfect(frame) and not future:
            continue
        action = _action_of(frame, token)
        if action is None and not future:
            continue
        return Cue(token.lower_, "evaluative", _framed_actor(frame, action))
    return None


def _action_of(frame: Token, adjective: Token) -> Token | None:
    """The action an evaluative frame is about: "... to focus", "... that X share",
    "... in maintaining", or an action as the subject ("Establishing X is essential")."""
    for head in (adjective, frame):
        for child in head.children:
            if child.dep_ in {"xcomp", "ccomp", "advcl"} and child.tag_.startswith("VB"):
                return child
            if child.dep_ == "prep":
                verb = _child(child, "pcomp")
                if verb is not None and verb.tag_ == "VBG":
                    return verb
    subject = _child(frame, "csubj", "nsubj")
    if subject is not None and subject.tag_ == "VBG":
        return subject
    return None


def _framed_actor(frame: Token, action: Token | None) -> str:
    if action is not None:
        subject = _child(action, "nsubj", "nsubjpass")
        if subject is not None:
            return _subtree_text(subject)
    subject = _child(frame, "nsubj")
    if subject is not None and subject.lower_ != "it":
        return _subtree_text(subject)
    return ""


def means_cue(tokens: Iterable[Token], lexicon: CueLexicon) -> Cue | None:
    """ "One way to ensure X is by Y", "The best option would be to Z"."""
    for token in tokens:
        if token.lower_ not in lexicon.means_nouns or token.dep_ != "nsubj":
            continue
        frame = token.head
        if frame.lower_ not in lexicon.copula_forms or not asserted_clause(frame):
            continue
        if _is_past_or_perfect(frame):
            continue
        purpose = any(
            c.dep_ in {"relcl", "acl"} and any(a.lower_ == "to" for a in c.children) for c in token.children
        )
        forward = token.lower_ == "way" and any(c.lower_ in {"forward", "ahead"} for c in token.children)
        how = any(
            (c.dep_ == "prep" and c.lower_ == "by" and _child(c, "pcomp") is not None)
            or (c.dep_ in {"xcomp", "ccomp", "attr"} and c.tag_ in {"VB", "VBG"})
            for c in frame.children
        )
        modal = _child(frame, "aux")
        proposed = modal is not None and modal.lower_ in {"would", "could", "might"} and any(
            c.dep_ in {"advcl", "xcomp", "ccomp"} and c.tag_ == "VB" for c in frame.children
        )  # "The best option would be for the AU to set up ..."
        if (purpose or forward) and how or proposed:
            return Cue(token.lower_, "means", _framed_actor(frame, _child(frame, "advcl", "xcomp", "ccomp")))
    return None


def need_cue(tokens: Iterable[Token], lexicon: CueLexicon) -> Cue | None:
    """ "States need to ...", "There is a need to ..." (present or future, not "needed")."""
    for token in tokens:
        if token.lower_ not in lexicon.need_forms:
            continue
        if token.tag_ in {"VB", "VBP", "VBZ"} and not _is_negated(token):
            infinitive = _child(token, "xcomp", "dobj")
            if infinitive is not None and asserted_clause(token):
                return Cue("need", "need", _acting_phrase(token))
        if token.tag_.startswith("NN") and token.dep_ in {"attr", "nsubj"}:
            frame = token.head
            existential = frame.lower_ in lexicon.copula_forms and _child(frame, "expl") is not None
            what = _child(token, "acl", "relcl", "prep", "advcl")  # "a need to ...", "a need for ..."
            if existential and what is not None and not _is_past_or_perfect(frame) and asserted_clause(frame):
                return Cue("need", "need", *_needing(token))
    return None


def _needing(need: Token) -> tuple[str, bool]:
    """Who "a need for X to do Y" asks to act (X), and whether the need names anyone at all
    ("a need for clearer guidance" names no one)."""
    for clause in need.children:
        doer = _child(clause, "nsubj") if clause.dep_ in {"acl", "relcl", "advcl"} else None
        if doer is not None and clause.tag_ == "VB":
            return _subtree_text(doer), True
    return "", False


def opening_word(doc: Doc) -> Token | None:
    """The unit's first word, after a speaker's name ("Lee: Fund people, not events.")."""
    start = after_speaker_label(doc.text)
    return next((t for t in doc if t.is_alpha and t.idx >= start), None)


def _subjectless(token: Token) -> bool:
    """No subject of its own; a label before it ("Recommendation 3: Establish") is none."""
    label_end = after_speaker_label(token.doc.text)
    return not any(
        c.dep_ in SUBJECT_DEPS and c.idx >= label_end for c in token.children
    )


def reads_as_title(doc: Doc) -> bool:
    """Too short for a request, or capitalised like a title ("Control lists.",
    "Export Control Forum Nairobi, 3-4 June")."""
    words = [t for t in doc if t.is_alpha]
    long_words = [t for t in words if len(t) > 3]
    capitalised = sum(t.text[0].isupper() for t in long_words)
    return len(words) < 3 or (len(long_words) >= 2 and capitalised >= 0.6 * len(long_words))


def opening_cue(doc: Doc, lexicon: CueLexicon) -> Cue | None:
    """An imperative ("Establish a clearing house.") or the operative verb of a resolution
    paragraph ("Calls upon all States to ...", "Encourages States to ...")."""
    first = opening_word(doc)
    if first is None or not _subjectless(first):
        return None
    if (
        first.tag_ == "VB"
        and first.dep_ in {"ROOT", "conj", "advcl"}
        and first.lower_ not in lexicon.non_action_verbs
        and not reads_as_title(doc)
    ):
        return Cue("imperative", "imperative", _advised_phrase(first))
    advice = lexicon.advice_forms.get(first.lower_)
    if advice is not None and first.is_title and first.lower_.endswith("s"):
        required = lexicon.advice_requires.get(advice)
        window = [t.lower_ for t in doc[first.i + 1 : first.i + 5]]
        if not required or any(w in required for w in window):
            return Cue(advice, "operative", _advised_phrase(first) or doc[first.i + 1 :].text)
    return None


def frame_cue(tokens: Iterable[Token], lexicon: CueLexicon) -> Cue | None:
    """ "It is time for X to ...", "the time has come to ...", "There was wide support for ..."."""
    for token in tokens:
        frame = lexicon.nominal_frames.get(token.lower_)
        if frame not in {"time", "proposal"} or not token.tag_.startswith("NN"):
            continue
        head = token.head
        if head.lower_ not in lexicon.copula_forms and head.lower_ not in {"come", "comes"}:
            continue
        if not asserted_clause(head):
            continue
        if frame == "time":
            acting = next((t for t in head.subtree if t.dep_ == "aux" and t.lower_ == "to"), None)
            present = head.lower_ == "come" or not _is_past_or_perfect(head)  # "has come" is now
            if acting is not None and present:
                return Cue("time", "frame", _subtree_text(_child(token, "prep")))
        elif _child(head, "expl") is not None and any(
            c.dep_ == "prep" and c.lower_ == "for" for c in token.children
        ):
            return Cue(token.lower_, "frame", "")
    return None


IMPERATIVE_PROBE = "You should "


def imperative_probe(doc: Doc, parse: Callable[[str], Doc], lexicon: CueLexicon) -> Cue | None:
    """An imperative the tagger read as a noun ("Fund people, not events."): a unit with no
    verb clause of its own whose first word parses as the verb after "You should"."""
    first = opening_word(doc)
    if first is None or not first.is_title or first.lower_ in lexicon.non_verb_openers:
        return None
    if first.lower_ in lexicon.non_action_verbs or reads_as_title(doc):
        return None
    if any(span.start <= first.i < span.end for span in doc.spans.get("gazetteer", [])):
        return None  # "Security Council resolution 1540 obliges ...": a name, not a verb
    if any(t.tag_ in {"MD", "VBD", "VBP", "VBZ"} or t.dep_ in {"nsubj", "nsubjpass", "expl"} for t in doc):
        return None  # a finite clause or a subject: not an imperative
    if first.tag_ == "NNP" and first.i + 1 < len(doc) and doc[first.i + 1].tag_ == "NNP":
        return None  # a person's or body's name ("Karim Mansour, former diplomat")
    probe = parse(IMPERATIVE_PROBE + first.lower_ + doc.text[first.idx + len(first.text) :])
    verb = probe[2]
    if verb.tag_ == "VB" and verb.dep_ == "ROOT":
        return Cue("imperative", "imperative", _advised_phrase(verb))
    return None


# Each rule reads the unit's candidate tokens (those whose word is a cue word) in its parse.
RULES: tuple[Callable[[Iterable[Token], CueLexicon], Cue | None], ...] = (
    modal_cue, advice_cue, evaluative_cue, means_cue, need_cue, frame_cue,
)  # fmt: skip


def find_cue(doc: Doc, lexicon: CueLexicon) -> Cue | None:
    """The first rule that reads ``doc`` as a recommendation, or None."""
    if doc.text.rstrip().endswith("?") or lexicon.excluded(doc.text):
        return None
    candidates = [token for token in doc if token.lower_ in lexicon.trigger_words]
    opening = opening_cue(doc, lexicon)
    if opening is not None:
        return opening
    rules = RULES
    first = opening_word(doc)
    if first is not None and first.is_title and first.lower_ in lexicon.operative_verbs:
        # "Recalls its earlier resolution, which obliged States to ...": only a new request counts
        rules = (advice_cue,)
    for rule in rules:
        cue = rule(candidates, lexicon)
        if cue is not None:
            return cue
    return None
