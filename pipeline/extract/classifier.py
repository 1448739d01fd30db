"""The recommendation detector: cue, parse and layout features of a unit, weighed by a
small logistic model.

The rules of ``cues.py`` say *why* a unit may advise; here they become features beside
what the parse shows about the clause (imperative or operative verb first, tense, modal,
subject, nominal frames such as "the need to", history markers such as a year) and what
the layout shows (list item, announced list, lead-in, section heading). Words are classes
from ``recommendation_cues.toml``, never content words, so the model does not learn the
topics of the memos it was fitted on. The weights live in ``recommendation_model.json``
(written by ``python -m pipeline.extract.training``): a plain JSON of feature names,
coefficients and a threshold, read without scikit-learn.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.extract.cues import SUBJECT_DEPS, Cue, CueLexicon, asserted_clause, opening_word
from pipeline.extract.gazetteer import knowledge_file, resolve_data_dir

if TYPE_CHECKING:  # spaCy is imported only where documents are processed
    from spacy.tokens import Doc

MODEL_FILE = "recommendation_model.json"
YEAR = re.compile(r"(?<!\()\b(?:19|20)\d\d\b(?!\))")  # not "resolution 1540 (2004)"
CONTACT = re.compile(r"(?i)@|https?://|www\.|\+\d[\d ()-]{7,}\d|\b(?:tel|fax|e-?mail|phone)\b")
FIRST_PERSON = {"i", "we"}


@dataclass(frozen=True)
class Layout:
    """Where a unit sits: what the list and section around it say."""

    kind: str
    in_list: bool = False
    announced: bool = False  # its list's lead-in announces recommendations
    lead_in_advises: bool = False  # the lead-in itself carries a cue ("urged the Committee to:")
    section_announces: bool = False  # the section heading names recommendations, next steps...
    nested: bool = False


def _opening_features(doc: Doc, lexicon: CueLexicon, features: dict[str, float]) -> None:
    """A paragraph opening with a verb that asks nothing ("Recalls ...", "See annex 2")."""
    first = opening_word(doc)
    if first is None:
        return
    if first.tag_ == "VB" and first.lower_ in lexicon.non_action_verbs:
        features["imperative_other"] = 1.0
    if (
        first.is_title
        and first.lower_ in lexicon.operative_verbs
        and first.lower_ not in lexicon.advice_forms
    ):
        features["operative_other"] = 1.0


def _clause_features(doc: Doc, lexicon: CueLexicon, features: dict[str, float]) -> None:
    """What the parse says about the unit's main clause."""
    _opening_features(doc, lexicon, features)
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    if root is not None:
        if root.tag_ == "VBD":
            features["past_root"] = 1.0
            if YEAR.search(doc.text):
                features["dated_past"] = 1.0  # "In 2006 the Assembly called ...": history
        elif root.tag_.startswith("NN"):
            features["noun_root"] = 1.0
        subject = next((c for c in root.children if c.dep_ in SUBJECT_DEPS), None)
        if subject is not None and subject.lower_ in FIRST_PERSON:
            features["subject_first_person"] = 1.0
        elif subject is not None and subject.lower_ in lexicon.reported_sources:
            features["subject_document"] = 1.0
    if not any(t.tag_.startswith("VB") or t.tag_ == "MD" for t in doc):
        features["verbless"] = 1.0
    for token in doc:
        word = token.lower_
        if token.tag_ == "MD":
            features[f"modal={word}"] = 1.0
            if asserted_clause(token.head if token.dep_ in {"aux", "auxpass"} else token):
                features["modal_asserted"] = 1.0
        elif word in lexicon.nominal_frames and token.tag_.startswith("NN"):
            features[f"frame={lexicon.nominal_frames[word]}"] = 1.0
        elif word in lexicon.need_forms and token.tag_ in {"VB", "VBP", "VBZ"}:
            features["need_verb"] = 1.0
        elif token.dep_ == "mark" and word in {"if", "whether", "unless"}:
            features["conditional"] = 1.0
        if word in lexicon.advice_forms:
            features["advice_past" if token.tag_ in {"VBN", "VBD"} else "advice_word"] = 1.0
        if word in lexicon.history_words:
            features["history_word"] = 1.0


# What a list's lead-in says that its items inherit ("practical steps for consideration:").
LEAD_IN_FEATURES = ("cue", "modal_asserted", "advice_word", "advice_past", "past_root", "section_announces")


def lead_in_features(features: dict[str, float]) -> dict[str, float]:
    """The lead-in's own features an item takes over, renamed ``lead_in:...``."""
    return {
        f"lead_in:{name}": value
        for name, value in features.items()
        if name in LEAD_IN_FEATURES or name.startswith("frame=")
    }


def unit_features(doc: Doc, cue: Cue | None, layout: Layout, lexicon: CueLexicon) -> dict[str, float]:
    """Named features of one unit (binary, except a few counts scaled to [0, 1])."""
    text = doc.text
    features: dict[str, float] = {"bias_kind=" + layout.kind: 1.0}
    if cue is not None:
        features["cue"] = 1.0
        features[f"rule={cue.rule}"] = 1.0
    for name in ("in_list", "announced", "lead_in_advises", "section_announces", "nested"):
        if getattr(layout, name):
            features[name] = 1.0
    stripped = text.rstrip()
    if stripped.endswith(":"):
        features["ends_colon"] = 1.0
    if stripped.endswith("?"):
        features["question"] = 1.0
    if CONTACT.search(text):
        features["contact"] = 1.0
    if lexicon.excluded(text):
        features["excluded_pattern"] = 1.0
    if doc.has_annotation("DEP"):
        features["parsed"] = 1.0
        _clause_features(doc, lexicon, features)
    return features


@dataclass(frozen=True)
class RecommendationModel:
    """Logistic weights over named features; ``score`` is the probability of a recommendation."""

    weights: dict[str, float]
    intercept: float
    threshold: float

    def score(self, features: dict[str, float]) -> float:
        z = self.intercept + sum(self.weights.get(name, 0.0) * value for name, value in features.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> str:
        payload = {
            "intercept": round(self.intercept, 6),
            "threshold": round(self.threshold, 4),
            "weights": {k: round(v, 6) for k, v in sorted(self.weights.items()) if abs(v) >= 1e-6},
        }
        return json.dumps(payload, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> RecommendationModel:
        payload = json.loads(text)
        return cls(
            {str(k): float(v) for k, v in payload["weights"].items()},
            float(payload["intercept"]),
            float(payload["threshold"]),
        )


def model_path(data_dir: str = "") -> Path:
    return knowledge_file(resolve_data_dir(data_dir or None), MODEL_FILE)


@lru_cache(maxsize=4)
def load_model(data_dir: str = "") -> RecommendationModel:
    """The shipped (or the user's own, in ``data_dir``) recommendation model."""
    path = model_path(data_dir)
    try:
        return RecommendationModel.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError) as error:
        raise SystemExit(f"error: {path}: cannot read the recommendation model ({error})") from error
