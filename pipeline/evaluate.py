"""Scores against hand-labelled gold files: ``python -m pipeline evaluate`` / ``make evaluate``.

Every gold file (default ``tests/gold/*.json``, the format of ``seed_gold.json``: documents
keyed by their source file name) is scored for recommendations, countries, organizations
and regions, with precision, recall and F1, next to two baselines: the plain
``en_core_web_sm`` NER (countries looked up with pycountry) and a unit-contains
"should/must/could" keyword rule. The scoring functions are pure and tested.

Matching rules (see tests/gold/GUIDELINES.md):
- recommendations: one gold unit per predicted unit when their normalised texts are equal
  (case, quotes, spacing, list markers and trailing punctuation aside); a borderline gold
  unit is neither rewarded nor punished;
- countries: ISO3 codes per document;
- organizations: canonical names per document; a prediction matches a gold name when its
  full name or acronym equals either part of the gold "Full Name (ACR)"; a gold
  ``organizations_optional`` name is neither rewarded nor punished; a second prediction for
  an already matched gold name is a false positive (one canonical name per body);
- regions: names per document, case and a leading "the" aside, aliases resolved.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.config import Context
from pipeline.extract.gazetteer import Knowledge, load_knowledge, name_parts
from pipeline.tableio import read_table

DEFAULT_GOLD_DIR = Path("tests") / "gold"
TASKS = ("recommendations", "countries", "organizations", "regions")
KEYWORDS = re.compile(r"(?i)\b(?:should|must|could)\b")
LIST_MARKER = re.compile(r"^\s*(?:[-*•·▪‣–—]+|\(?[0-9]{1,3}[.)]|\(?[a-zA-Z][.)]|\(?[ivxlc]{1,5}[.)])\s+")
CHARACTER_FOLDS = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})


@dataclass(frozen=True)
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Score) -> Score:
        return Score(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


# --------------------------------------------------------------------------- normalisation


def normalise_unit_text(text: str) -> str:
    """Text of a unit for matching: case, quotes, spacing, markup, list markers and
    trailing punctuation do not matter."""
    text = unicodedata.normalize("NFKC", str(text)).translate(CHARACTER_FOLDS)
    text = re.sub(r"[*_`]+", "", text)
    text = LIST_MARKER.sub("", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text.rstrip(" .;:,!").lower()


def normalise_name(name: str) -> str:
    """An organization or region name for matching."""
    text = unicodedata.normalize("NFKC", str(name)).translate(CHARACTER_FOLDS).lower()
    text = re.sub(r"^the\s+", "", text.strip())
    text = text.replace("organisation", "organization").replace("&", "and").replace("centre", "center")
    text = re.sub(r"[.,]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def org_keys(name: str, knowledge: Knowledge | None = None) -> set[str]:
    """Every way to recognise one organization: its full name and acronym, and those of the
    gazetteer entry the name is an alias of."""
    full, acronym = name_parts(name)
    keys = {normalise_name(part) for part in (full, acronym, name) if part}
    if knowledge is not None:
        for part in (name, full, acronym):
            canonical = knowledge.org_names.get(part.lower()) if part else None
            if canonical and canonical != name:
                keys |= org_keys(canonical)
    return keys


def region_key(name: str, knowledge: Knowledge | None = None) -> str:
    stripped = re.sub(r"(?i)^the\s+", "", str(name).strip())
    if knowledge is not None:
        stripped = knowledge.region_names.get(stripped.lower(), stripped)
    return normalise_name(stripped)


# --------------------------------------------------------------------------- scoring


def score_recommendations(predicted: Iterable[str], gold: Iterable[dict]) -> Score:
    """Unit-level scores; borderline gold units are ignored either way."""
    positives: set[str] = set()
    borderline: set[str] = set()
    for item in gold:
        (borderline if item.get("borderline") else positives).add(normalise_unit_text(item["text"]))
    borderline -= positives
    found = {normalise_unit_text(t) for t in predicted}
    return Score(
        tp=len(found & positives),
        fp=len(found - positives - borderline),
        fn=len(positives - found),
    )


def score_sets(predicted: Iterable[str], gold: Iterable[str], optional: Iterable[str] = ()) -> Score:
    found, wanted, neutral = set(predicted), set(gold), set(optional) - set(gold)
    return Score(tp=len(found & wanted), fp=len(found - wanted - neutral), fn=len(wanted - found))


def score_organizations(
    predicted: Iterable[str],
    gold: Iterable[str],
    optional: Iterable[str] = (),
    knowledge: Knowledge | None = None,
) -> Score:
    """One-to-one matching of canonical names by their parts (full name, acronym)."""
    gold_keys = [(name, org_keys(name, knowledge)) for name in dict.fromkeys(gold)]
    optional_keys = [org_keys(name, knowledge) for name in optional]
    matched: set[str] = set()
    tp = fp = 0
    for name in dict.fromkeys(predicted):
        keys = org_keys(name, knowledge)
        hit = next((g for g, gk in gold_keys if gk & keys and g not in matched), None)
        if hit is not None:
            matched.add(hit)
            tp += 1
        elif any(keys & ok for ok in optional_keys):
            continue
        else:
            fp += 1
    return Score(tp=tp, fp=fp, fn=len(gold_keys) - len(matched))


def score_regions(predicted: Iterable[str], gold: Iterable[str], knowledge: Knowledge | None = None) -> Score:
    return score_sets({region_key(p, knowledge) for p in predicted}, {region_key(g, knowledge) for g in gold})


@dataclass
class Predictions:
    """What one system says about one document (None: the system does not do this task)."""

    recommendations: list[str] | None = None
    countries: set[str] | None = None
    organizations: set[str] | None = None
    regions: set[str] | None = None


def score_document(pred: Predictions, gold: dict, knowledge: Knowledge | None) -> dict[str, Score | None]:
    return {
        "recommendations": None
        if pred.recommendations is None
        else score_recommendations(pred.recommendations, gold.get("recommendations", [])),
        "countries": None
        if pred.countries is None
        else score_sets(pred.countries, {c.upper() for c in gold.get("countries", [])}),
        "organizations": None
        if pred.organizations is None
        else score_organizations(
            pred.organizations,
            gold.get("organizations", []),
            gold.get("organizations_optional", []),
            knowledge,
        ),
        "regions": None
        if pred.regions is None
        else score_regions(pred.regions, gold.get("regions", []), knowledge),
    }


# --------------------------------------------------------------------------- systems


def project_predictions(entities: pd.DataFrame, recommendations: pd.DataFrame, doc_id: str) -> Predictions:
    ents = entities[entities["doc_id"] == doc_id]
    return Predictions(
        recommendations=list(recommendations.loc[recommendations["doc_id"] == doc_id, "text"]),
        countries=set(ents.loc[ents["label"] == "COUNTRY", "iso3"]),
        organizations=set(ents.loc[ents["label"] == "ORG", "canonical"]),
        regions=set(ents.loc[ents["label"] == "REGION", "canonical"]),
    )


def keyword_predictions(units: pd.DataFrame) -> Predictions:
    """Baseline: every unit whose text contains should, must or could."""
    return Predictions(recommendations=[t for t in units["text"] if KEYWORDS.search(t)])


def plain_country_code(name: str) -> str | None:
    """What a plain pycountry lookup makes of a GPE mention."""
    import pycountry

    try:
        return pycountry.countries.lookup(name.strip()).alpha_3
    except LookupError:
        return None


def plain_ner_predictions(units: pd.DataFrame, model: str) -> Predictions:
    """Baseline: the model with its default components on each unit; ORG as written, GPE
    through pycountry, LOC as regions."""
    from pipeline.nlp import load_model

    nlp = load_model(model)
    countries, orgs, regions = set(), set(), set()
    for doc in nlp.pipe(list(units["text"]), batch_size=64):
        for ent in doc.ents:
            if ent.label_ == "ORG":
                orgs.add(ent.text)
            elif ent.label_ == "GPE":
                code = plain_country_code(ent.text)
                if code:
                    countries.add(code)
            elif ent.label_ == "LOC":
                regions.add(ent.text)
    return Predictions(countries=countries, organizations=orgs, regions=regions)


# --------------------------------------------------------------------------- gold files and report


def discover_gold_files(gold_files: Iterable[Path] | None = None) -> list[Path]:
    if gold_files:
        return [Path(p) for p in gold_files]
    folder = (
        DEFAULT_GOLD_DIR
        if DEFAULT_GOLD_DIR.is_dir()
        else Path(__file__).resolve().parent.parent / DEFAULT_GOLD_DIR
    )
    return sorted(p for p in folder.glob("*.json") if _is_gold(p))


def _is_gold(path: Path) -> bool:
    try:
        return isinstance(json.loads(path.read_text(encoding="utf-8")).get("docs"), dict)
    except (OSError, ValueError, AttributeError):
        return False


def match_documents(gold_docs: dict, documents: pd.DataFrame) -> dict[str, str]:
    """Gold source name -> doc_id, by the source path or, failing that, the file name."""
    by_source = dict(zip(documents["source"], documents["doc_id"], strict=True))
    by_name = {Path(s).name: d for s, d in by_source.items()}
    found = {}
    for source in gold_docs:
        doc_id = by_source.get(source) or by_name.get(Path(source).name)
        if doc_id:
            found[source] = doc_id
    return found


def format_table(title: str, systems: dict[str, dict[str, Score | None]]) -> str:
    """Systems side by side, precision / recall / F1 per task ("—": not attempted)."""
    widths = {name: max(len(name) + 3, 21) for name in systems}
    header = f"{'':<17}" + "".join(f"{name:<{widths[name]}}" for name in systems)
    columns = f"{'task':<17}" + "".join(f"{'P':>5}{'R':>6}{'F1':>6}".ljust(widths[n]) for n in systems)
    lines = [title, "", header.rstrip(), columns.rstrip()]
    for task in TASKS:
        cells = []
        for name in systems:
            score = systems[name].get(task)
            cell = (
                f"{'—':>5}" if score is None else f"{score.precision:5.2f}{score.recall:6.2f}{score.f1:6.2f}"
            )
            cells.append(cell.ljust(widths[name]))
        lines.append(f"{task:<17}" + "".join(cells).rstrip())
    return "\n".join(lines)


def _ensure_outputs(ctx: Context) -> None:
    """Bring documents, units, entities and recommendations up to date (stages skip work
    that is already done)."""
    from pipeline.extract.stage import run as extract
    from pipeline.ingest.stage import run as ingest

    ingest(ctx)
    extract(ctx)


def evaluate_gold_file(
    path: Path, ctx: Context, knowledge: Knowledge, baselines: bool
) -> tuple[dict[str, dict[str, Score | None]], list[str], tuple[int, int]]:
    """Summed scores per system over the documents of one gold file."""
    gold = json.loads(path.read_text(encoding="utf-8"))
    documents = read_table(ctx.paths.table("documents"))
    units = read_table(ctx.paths.table("units"))
    entities = read_table(ctx.paths.table("entities"))
    recommendations = read_table(ctx.paths.table("recommendations"))
    matched = match_documents(gold["docs"], documents)
    missing = [s for s in gold["docs"] if s not in matched]
    model = str(ctx.settings["extract"].get("model", "en_core_web_sm"))
    systems: dict[str, dict[str, Score | None]] = {"project": {}}
    if baselines:
        systems[f"plain {model} NER"] = {}
        systems["should/must/could"] = {}
    actor_hits = actor_total = 0
    for source, doc_id in matched.items():
        gold_doc = gold["docs"][source]
        doc_units = units[units["doc_id"] == doc_id]
        runs = {"project": project_predictions(entities, recommendations, doc_id)}
        if baselines:
            runs[f"plain {model} NER"] = plain_ner_predictions(doc_units, model)
            runs["should/must/could"] = keyword_predictions(doc_units)
        for name, predictions in runs.items():
            for task, score in score_document(predictions, gold_doc, knowledge).items():
                if score is not None:
                    previous = systems[name].get(task)
                    systems[name][task] = score if previous is None else previous + score
        hits, total = actor_agreement(recommendations[recommendations["doc_id"] == doc_id], gold_doc)
        actor_hits, actor_total = actor_hits + hits, actor_total + total
    return systems, missing, (actor_hits, actor_total)


def actor_agreement(predicted: pd.DataFrame, gold: dict) -> tuple[int, int]:
    """How many found (non-borderline) gold recommendations got the gold actor."""
    actors = {normalise_unit_text(t): a for t, a in zip(predicted["text"], predicted["actor"], strict=True)}
    hits = total = 0
    for item in gold.get("recommendations", []):
        key = normalise_unit_text(item["text"])
        if item.get("borderline") or key not in actors:
            continue
        total += 1
        hits += actors[key] == item.get("actor")
    return hits, total


def main(ctx: Context, gold_files: list[Path] | None = None, baselines: bool = True) -> int:
    """Print the score tables for every gold file; always returns 0 (a report, not a gate)."""
    files = discover_gold_files(gold_files)
    if not files:
        print("evaluate: no gold files found (expected tests/gold/*.json)", file=sys.stderr)
        return 0
    _ensure_outputs(ctx)
    knowledge = load_knowledge(ctx.settings["extract"].get("data_dir") or None)
    for path in files:
        systems, missing, (hits, total) = evaluate_gold_file(path, ctx, knowledge, baselines)
        n_docs = len(json.loads(path.read_text(encoding="utf-8"))["docs"]) - len(missing)
        print(format_table(f"{path} — {n_docs} documents", systems))
        if total:
            share = f"{hits / total:.0%}"
            print(f"\nactor agrees with the gold on {hits} of {total} recommendations found ({share})")
        for source in missing:
            print(f"note: {source} is in the gold file but not among the processed documents")
        print()
    return 0
