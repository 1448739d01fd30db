"""Fitting the recommendation detector on labelled units (``make train``).

Every gold corpus (a gold file and the folder of its documents) is ingested and parsed once,
exactly as the extract stage does it. Each unit the detector weighs is labelled from the gold:
a firm recommendation is positive, a borderline one is left out, any other unit is negative.
The logistic model is scored leave-one-document-out (fitted on every other document of every
corpus, then run as the stage runs it on the one left out), and only then fitted on all of
them and written to ``pipeline/data/recommendation_model.json``. Fitting is deterministic.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.config import Context, Paths
from pipeline.evaluate import match_documents
from pipeline.evaluate.scoring import Score, actor_agreement, normalise_unit_text, score_recommendations
from pipeline.extract.classifier import RecommendationModel, model_path
from pipeline.extract.cues import SPEAKER_LABEL, CueLexicon
from pipeline.extract.gazetteer import load_knowledge
from pipeline.extract.recommendations import (
    RECOMMENDATION_COLUMNS,
    Candidate,
    actor_lexicon,
    candidate_units,
    document_recommendations,
)

ROOT = Path(__file__).resolve().parents[2]
CORPORA = (
    ("seeds", ROOT / "tests/gold/seed_gold.json", ROOT / "tests/fixtures/memos"),
    ("dev", ROOT / "tests/gold/dev/gold.json", ROOT / "tests/gold/dev/docs"),
)
REGULARISATION = 1.0  # inverse strength (scikit-learn's C): a small model, strongly shrunk
THRESHOLD = 0.5


@dataclass
class LabelledDocument:
    corpus: str
    doc_id: str
    units: pd.DataFrame
    docs: list
    candidates: list[Candidate]
    labels: list[int | None]  # 1 firm recommendation, 0 not one, None borderline
    gold: dict


def _labels(candidates: Sequence[Candidate], units: pd.DataFrame, gold: dict) -> list[int | None]:
    firm: set[str] = set()
    borderline: set[str] = set()
    for item in gold.get("recommendations", []):
        (borderline if item.get("borderline") else firm).add(normalise_unit_text(item["text"]))
    # a speaker's name before a turn of a transcript ("Lee: Fund people.") is not in the gold
    texts = [normalise_unit_text(SPEAKER_LABEL.sub("", t, count=1)) for t in units["text"]]
    return [
        1 if texts[c.position] in firm else None if texts[c.position] in borderline else 0 for c in candidates
    ]


def load_corpus(
    name: str, gold_file: Path, docs_dir: Path, model: str = "en_core_web_sm"
) -> list[LabelledDocument]:
    """Ingest and parse the documents a gold file names, once."""
    from pipeline.extract.nlp_pipeline import extraction_pipeline, process_units
    from pipeline.ingest.stage import run as ingest

    gold = json.loads(gold_file.read_text(encoding="utf-8"))
    lexicon = CueLexicon(load_knowledge().cues)
    nlp = extraction_pipeline(model, "")
    with tempfile.TemporaryDirectory() as scratch:
        ctx = Context(paths=Paths(raw=docs_dir, processed=Path(scratch), reports=Path(scratch)))
        with contextlib.redirect_stderr(io.StringIO()):  # the stage's progress lines
            documents = ingest(ctx)
        units = pd.read_csv(ctx.paths.table("units"), dtype=str, keep_default_na=False)
    labelled = []
    for source, doc_id in match_documents(gold["docs"], documents).items():
        doc_units = units[units["doc_id"] == doc_id].reset_index(drop=True)
        docs = list(process_units(nlp, doc_units["text"], doc_units["kind"]))
        candidates = candidate_units(doc_units, docs, lexicon)
        labels = _labels(candidates, doc_units, gold["docs"][source])
        labelled.append(
            LabelledDocument(name, doc_id, doc_units, docs, candidates, labels, gold["docs"][source])
        )
    return labelled


def fit(documents: Sequence[LabelledDocument], c: float = REGULARISATION) -> RecommendationModel:
    """A logistic model over the labelled candidates of ``documents`` (deterministic)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    rows, labels = [], []
    for document in documents:
        for candidate, label in zip(document.candidates, document.labels, strict=True):
            if label is not None:
                rows.append(candidate.features)
                labels.append(label)
    vectorizer = DictVectorizer(sort=True)
    matrix = vectorizer.fit_transform(rows)
    classifier = LogisticRegression(C=c, max_iter=5000, random_state=0).fit(matrix, labels)
    weights = dict(zip(vectorizer.get_feature_names_out(), classifier.coef_[0].tolist(), strict=True))
    return RecommendationModel(weights, float(classifier.intercept_[0]), THRESHOLD)


def predict(document: LabelledDocument, model: RecommendationModel) -> pd.DataFrame:
    """The recommendations the stage would write for ``document`` with ``model``."""
    knowledge = load_knowledge()
    rows = document_recommendations(
        document.doc_id,
        document.units,
        document.docs,
        CueLexicon(knowledge.cues),
        actor_lexicon(),
        model,
    )
    return pd.DataFrame(rows, columns=RECOMMENDATION_COLUMNS)


@dataclass
class Figures:
    score: Score
    actor_hits: int = 0
    actor_total: int = 0

    def line(self, name: str) -> str:
        s = self.score
        actor = self.actor_hits / self.actor_total if self.actor_total else 0.0
        return (
            f"{name:<8} P {s.precision:.3f}  R {s.recall:.3f}  F1 {s.f1:.3f}"
            f"  (tp {s.tp}, fp {s.fp}, fn {s.fn})"
            f"  actor {actor:.3f} ({self.actor_hits}/{self.actor_total})"
        )


# The rules alone, for comparison: a unit with a cue, or an item of an announced list.
RULES_ONLY = RecommendationModel({"cue": 10.0, "announced": 10.0}, -5.0, THRESHOLD)


def leave_one_document_out(
    documents: Sequence[LabelledDocument],
    c: float = REGULARISATION,
    verbose: bool = False,
    rules_only: bool = False,
) -> dict[str, Figures]:
    """Per corpus, the scores of models that never saw the document they are scored on
    (or of the rules alone, which learn nothing)."""
    figures: dict[str, Figures] = {}
    for held_out in documents:
        model = RULES_ONLY if rules_only else fit([d for d in documents if d is not held_out], c)
        predicted = predict(held_out, model)
        score = score_recommendations(predicted["text"], held_out.gold.get("recommendations", []))
        hits, total = actor_agreement(predicted, held_out.gold)
        if verbose:
            _print_errors(held_out, predicted, score)
        previous = figures.get(held_out.corpus, Figures(Score()))
        figures[held_out.corpus] = Figures(
            previous.score + score, previous.actor_hits + hits, previous.actor_total + total
        )
    return figures


def _print_errors(document: LabelledDocument, predicted: pd.DataFrame, score: Score) -> None:
    """Misses, false alarms and wrong actors of one held-out document (``--verbose``)."""
    print(f"== {document.doc_id} {score}")
    found = {
        normalise_unit_text(t): (a, s)
        for t, a, s in zip(predicted["text"], predicted["actor"], predicted["score"], strict=True)
    }
    gold = {normalise_unit_text(g["text"]): g for g in document.gold.get("recommendations", [])}
    for key, item in gold.items():
        if item.get("borderline"):
            continue
        if key not in found:
            print(f"  FN  {item['actor']:<22} {item['text'][:140]}")
        elif found[key][0] != item["actor"]:
            print(f"  ACT {found[key][0]} -> {item['actor']}: {item['text'][:120]}")
    for key, (actor, score_value) in found.items():
        if key not in gold:
            print(f"  FP  {score_value:.2f} {actor:<18} {key[:140]}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.extract.training", description=__doc__)
    parser.add_argument("--output", type=Path, default=model_path(), help="where to write the model JSON")
    parser.add_argument("--no-write", action="store_true", help="report the cross-validated figures only")
    parser.add_argument("--verbose", action="store_true", help="list every held-out error")
    parser.add_argument("-C", type=float, default=REGULARISATION, help="inverse regularisation strength")
    args = parser.parse_args(argv)
    documents = [d for name, gold, folder in CORPORA for d in load_corpus(name, gold, folder)]
    positives = sum(label == 1 for d in documents for label in d.labels)
    negatives = sum(label == 0 for d in documents for label in d.labels)
    print(f"{len(documents)} documents, {positives} recommendations, {negatives} other units")
    print("rules alone (a cue, or an item of an announced list):")
    for name, figures in leave_one_document_out(documents, rules_only=True).items():
        print("  " + figures.line(name))
    print("detector, leave-one-document-out:")
    for name, figures in leave_one_document_out(documents, args.C, args.verbose).items():
        print("  " + figures.line(name))
    if not args.no_write:
        args.output.write_text(fit(documents, args.C).to_json(), encoding="utf-8")
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
