"""Pure scoring rules: predictions and gold labels in, counts out (see tests/gold/GUIDELINES.md).

- recommendations: one gold unit per predicted unit when their normalised texts are equal
  (case, quotes, spacing, list markers and trailing punctuation aside); a borderline gold
  unit is neither rewarded nor punished;
- countries: ISO3 codes per document; ``countries_optional`` are neutral;
- organizations: canonical names per document; a prediction matches a gold name when its
  full name or acronym equals either part of the gold "Full Name (ACR)", directly or through
  a gazetteer alias; ``organizations_optional`` are neutral; a second prediction for an
  already matched gold name is a false positive (one canonical name per body);
- regions: names per document, case and a leading "the" aside, aliases resolved;
  ``regions_optional`` are neutral;
- metadata, recurrence and theme agreement: see their functions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from pipeline.extract.gazetteer import Knowledge, name_parts

TASKS = ("recommendations", "countries", "organizations", "regions")
LIST_MARKER = re.compile(r"^\s*(?:[-*•·▪‣–—]+|\(?[0-9]{1,3}[.)]|\(?[a-zA-Z][.)]|\(?[ivxlc]{1,5}[.)])\s+")
CHARACTER_FOLDS = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})
# Words that carry no name: left out when conference names and titles are compared.
FUNCTION_WORDS = frozenset(["a", "an", "and", "for", "in", "of", "on", "the", "to"])
ORDINAL_WORDS = {
    word: n
    for n, word in enumerate(
        [
            "first",
            "second",
            "third",
            "fourth",
            "fifth",
            "sixth",
            "seventh",
            "eighth",
            "ninth",
            "tenth",
            "eleventh",
            "twelfth",
            "thirteenth",
            "fourteenth",
            "fifteenth",
            "sixteenth",
            "seventeenth",
            "eighteenth",
            "nineteenth",
            "twentieth",
        ],
        start=1,
    )
}
ORDINAL = re.compile(r"(?i)\b(?:(\d{1,3})(?:st|nd|rd|th)|(" + "|".join(ORDINAL_WORDS) + r"))\b")
CONFERENCE_OVERLAP = 0.5  # share of the gold conference name's words the prediction must have
TITLE_JACCARD = 0.6


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

    def as_dict(self) -> dict[str, float]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


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
    """Every way to recognise one organization: its full name and acronym, the same without
    a leading country qualifier ("U.S. Department of State" = "Department of State"), and
    those of the gazetteer entry the name is an alias of."""
    full, acronym = name_parts(name)
    keys = {normalise_name(part) for part in (full, acronym, name) if part}
    if knowledge is not None:
        for part in (name, full, acronym):
            canonical = knowledge.org_names.get(part.lower()) if part else None
            if canonical and canonical != name:
                keys |= org_keys(canonical)
        keys |= {unqualified for key in list(keys) if (unqualified := _without_country(key, knowledge))}
    return keys


def _without_country(key: str, knowledge: Knowledge) -> str:
    """ "department of state" from "us department of state" or "united states department of
    state": a body named with and without its state's name is the same body."""
    words = key.split()
    for n in range(min(4, len(words) - 2), 0, -1):
        if " ".join(words[:n]) in knowledge.country_names:
            return " ".join(words[n:])
    return ""


def region_key(name: str, knowledge: Knowledge | None = None) -> str:
    """A region's name for matching: a leading "the" and an acronym in parentheses aside,
    gazetteer aliases resolved."""
    full, acronym = name_parts(re.sub(r"(?i)^the\s+", "", str(name).strip()))
    if knowledge is not None:
        for part in (full, acronym):
            if part and part.lower() in knowledge.region_names:
                return normalise_name(knowledge.region_names[part.lower()])
    return normalise_name(full)


def name_words(text: str) -> list[str]:
    """Lower-case words of a name or title, without function words and ordinals."""
    words = re.findall(r"[a-z0-9]+", unicodedata.normalize("NFKC", str(text)).lower())
    return [w for w in words if w not in FUNCTION_WORDS and not ORDINAL.fullmatch(w)]


def edition_number(text: str) -> int | None:
    """3 from "3rd Annual ..." or "Third Annual ..."; None when no ordinal is named."""
    match = ORDINAL.search(str(text))
    if match is None:
        return None
    return int(match[1]) if match[1] else ORDINAL_WORDS[match[2].lower()]


# --------------------------------------------------------------------------- extraction tasks


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


def score_regions(
    predicted: Iterable[str],
    gold: Iterable[str],
    knowledge: Knowledge | None = None,
    optional: Iterable[str] = (),
) -> Score:
    return score_sets(
        {region_key(p, knowledge) for p in predicted},
        {region_key(g, knowledge) for g in gold},
        {region_key(o, knowledge) for o in optional},
    )


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
        else score_sets(
            pred.countries,
            {c.upper() for c in gold.get("countries", [])},
            {c.upper() for c in gold.get("countries_optional", [])},
        ),
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
        else score_regions(
            pred.regions, gold.get("regions", []), knowledge, gold.get("regions_optional", [])
        ),
    }


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


# --------------------------------------------------------------------------- metadata


def conference_matches(predicted: str, gold: str, predicted_edition: str = "") -> bool:
    """Found, with the gold edition (from the ``edition`` column or the name itself), and at
    least half of the gold name's words."""
    if not str(predicted).strip():
        return False
    wanted = edition_number(gold)
    if wanted is not None and wanted not in (edition_number(predicted), _as_int(predicted_edition)):
        return False
    gold_words = set(name_words(gold))
    return (
        not gold_words or len(gold_words & set(name_words(predicted))) / len(gold_words) >= CONFERENCE_OVERLAP
    )


def title_matches(predicted: str, gold: str) -> bool:
    """Word Jaccard of at least 0.6 between the two titles."""
    a, b = set(name_words(predicted)), set(name_words(gold))
    return bool(a | b) and len(a & b) / len(a | b) >= TITLE_JACCARD


def _as_int(value: object) -> int | None:
    match = re.match(r"\s*(\d+)", str(value))
    return int(match[1]) if match else edition_number(str(value))


METADATA_FIELDS = ("year", "date", "doc_type", "conference", "title")


def metadata_hits(predicted: dict, gold: dict) -> dict[str, bool]:
    """Per metadata field the gold states: does the documents.csv row get it right?
    year and date exact, doc_type case aside, conference and title as above."""
    checks = {
        "year": lambda p, g: str(p).strip() == str(g).strip(),
        "date": lambda p, g: str(p).strip() == str(g).strip(),
        "doc_type": lambda p, g: str(p).strip().lower() == str(g).strip().lower(),
        "conference": lambda p, g: conference_matches(p, g, predicted.get("edition", "")),
        "title": title_matches,
    }
    return {
        name: checks[name](predicted.get(name, ""), gold[name])
        for name in METADATA_FIELDS
        if gold.get(name) not in (None, "")
    }


# --------------------------------------------------------------------------- recurrence


def score_recurrence(pairs: pd.DataFrame, gold_pairs: Iterable[Iterable[str]]) -> Score:
    """Gold pairs give the first words of an earlier and a later unit. A found pair matches
    when each text holds one of them (either order); tp and fn count gold pairs, fp the found
    pairs that match none."""
    gold = [tuple(normalise_unit_text(part) for part in pair) for pair in gold_pairs]
    texts = [
        (normalise_unit_text(a), normalise_unit_text(b))
        for a, b in zip(pairs.get("text_a", []), pairs.get("text_b", []), strict=True)
    ]

    def holds(found: tuple[str, str], wanted: tuple[str, ...]) -> bool:
        first, second = wanted
        return (first in found[0] and second in found[1]) or (first in found[1] and second in found[0])

    found_gold = sum(any(holds(t, g) for t in texts) for g in gold)
    unmatched = sum(not any(holds(t, g) for g in gold) for t in texts)
    return Score(tp=found_gold, fp=unmatched, fn=len(gold) - found_gold)


# --------------------------------------------------------------------------- themes


def theme_agreement(pairs: Iterable[tuple[str, str]]) -> float | None:
    """Adjusted mutual information between gold and project themes (None: too few items)."""
    from sklearn.metrics import adjusted_mutual_info_score

    pairs = list(pairs)
    if len(pairs) < 2:
        return None
    gold, project = zip(*pairs, strict=True)
    return float(adjusted_mutual_info_score(gold, project))
