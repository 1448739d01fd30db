"""The extract stage's spaCy pipeline, built from settings.

The pinned English model (``extract.model``) provides tokenizer, tagger, parser and NER; the
lemmatizer, attribute ruler and sentence recognizer are not loaded (units are already
sentences, and the rules read fine-grained tags, not lemmas). The model's statistical
components run behind gates, and the project's components (``components.py``) add the
gazetteers, acronym learning, entity clean-up and recommendation cues.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

import pipeline.extract.components  # noqa: F401  (registers the component factories)
from pipeline.extract.gazetteer import load_knowledge
from pipeline.nlp import load_model

DEFAULT_EXCLUDE = ("lemmatizer", "attribute_ruler", "senter", "morphologizer")
EMBEDDERS = ("tok2vec", "transformer")
SYNTAX = ("tagger", "parser")


def _listeners(nlp: Language, embedder: str) -> list[str]:
    component = nlp.get_pipe(embedder)
    return list(getattr(component, "listening_components", []) or [])


def build_pipeline(model: str, data_dir: str = "", exclude: tuple[str, ...] = DEFAULT_EXCLUDE) -> Language:
    """Load ``model`` without what the stage does not use and add the project's components."""
    base = load_model.__wrapped__(model, exclude=tuple(exclude))  # a private copy: we add pipes
    statistical = [name for name in base.pipe_names]
    embedders = [name for name in statistical if name in EMBEDDERS]
    syntax = [name for name in statistical if name in SYNTAX]
    has_ner = "ner" in statistical
    for name in statistical:
        base.disable_pipe(name)

    ner_listens = has_ner and any("ner" in _listeners(base, e) for e in embedders)
    embed_gates = ["needs_syntax", "needs_ner"] if ner_listens else ["needs_syntax"]
    base.add_pipe("unit_gates")
    if embedders:
        base.add_pipe("gated_pipes", name="embedding", config={"pipes": embedders, "gates": embed_gates})
    if syntax:
        base.add_pipe("gated_pipes", name="syntax", config={"pipes": syntax, "gates": ["needs_syntax"]})
    base.add_pipe("gazetteer_matcher")
    if has_ner:
        base.add_pipe("gated_pipes", name="model_ner", config={"pipes": ["ner"], "gates": ["needs_ner"]})
    base.add_pipe("acronym_finder")
    base.add_pipe("entity_resolver")
    base.add_pipe("recommendation_cue")
    # the rule-based components get their patterns from the knowledge files, read once, the
    # way spaCy's span_ruler is initialized from data
    knowledge = load_knowledge(data_dir or None)
    for name in ("unit_gates", "gazetteer_matcher", "entity_resolver", "recommendation_cue"):
        base.get_pipe(name).initialize(nlp=base, knowledge=knowledge)  # type: ignore[attr-defined]
    return base


@lru_cache(maxsize=2)
def extraction_pipeline(model: str, data_dir: str = "") -> Language:
    """The pipeline, built once per process (workers reuse it for every document)."""
    return build_pipeline(model, data_dir)


def process_units(
    nlp: Language, texts: Iterable[str], kinds: Iterable[str], batch_size: int = 64
) -> Iterator[Doc]:
    """Docs for unit texts, each unit its own Doc (units are layout-aware sentences)."""

    def docs() -> Iterator[Doc]:
        for text, kind in zip(texts, kinds, strict=True):
            doc = nlp.make_doc(text)
            doc._.kind = kind
            yield doc

    return nlp.pipe(docs(), batch_size=batch_size)
