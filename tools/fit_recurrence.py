"""Fit the recurrence decision rule on the labelled series and report cross-fitted figures.

    python -m tools.fit_recurrence [--work DIR] [--series GOLD.json DOCS_DIR] ...

A labelled series is a gold file with ``recurring_recommendations`` and the folder of its
documents; its editions are the documents whose gold metadata names a conference. Each
series is run through ingest and extract once (in ``--work``, kept between calls), then
the rule is fitted on each series and scored on the others, and fitted on all of them:
the values to ship in ``pipeline/data/defaults.toml``. The links no gold pair lists are
printed for reading. Nothing here runs in the pipeline.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from pipeline.analyze.corpus import conferences, content_units
from pipeline.analyze.recurrence import Rule, Vocabulary, find_recurring, load_concepts
from pipeline.analyze.recurrence_eval import Labelled, fit_rule, links_of, load_gold_pairs, score_links
from pipeline.analyze.terms import TermExtractor, load_word_list
from pipeline.nlp import load_model

ROOT = Path(__file__).resolve().parent.parent
SERIES = (
    (ROOT / "tests/gold/dev/gold.json", ROOT / "tests/gold/dev/docs"),
    (ROOT / "tests/gold/seed_gold.json", ROOT / "tests/fixtures/memos"),
)


def editions(gold: Path) -> list[str]:
    """The documents of a gold file that are editions of a conference."""
    docs = json.loads(gold.read_text(encoding="utf-8"))["docs"]
    return sorted(name for name, meta in docs.items() if (meta.get("conference") or "").strip())


def processed(gold: Path, docs: Path, work: Path) -> Path:
    """The processed tables of the series' editions (run once, then reused)."""
    out = work / gold.parent.name / gold.stem
    if not (out / "processed" / "recommendations.csv").exists():
        raw = out / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        for name in editions(gold):
            shutil.copy(docs / name, raw / name)
        command = [sys.executable, "-m", "pipeline", "run", "--raw", str(raw), "--jobs", "2",
                   "--processed", str(out / "processed"), "--reports", str(out / "reports")]  # fmt: skip
        subprocess.run(command, check=True)
    return out / "processed"


def labelled(gold: Path, folder: Path, extractor: TermExtractor, vocabulary: Vocabulary) -> Labelled:
    """The series' candidates as the analyze stage computes them (all its documents one series)."""
    documents = pd.read_csv(folder / "documents.csv", dtype=str).fillna("")
    units = pd.read_csv(folder / "units.csv", dtype=str).fillna("")
    recs = pd.read_csv(folder / "recommendations.csv", dtype=str).fillna("")
    confs = conferences(documents)
    content = content_units(units, confs)
    keys = list(zip(units["doc_id"], units["unit_id"], strict=True))
    terms = dict(zip(keys, extractor.extract(units["text"].tolist()), strict=True))
    content_keys = zip(content["doc_id"], content["unit_id"], strict=True)
    background = [vocabulary.features([terms[k]]) for k in content_keys]
    found = find_recurring(
        recs[["doc_id", "unit_id", "text"]], units, confs, lambda d, u: terms[(d, u)], vocabulary, background,
        rule=Rule(1.0, 0.0),
    )  # fmt: skip
    return Labelled(f"{gold.parent.name}/{gold.name}", found.candidates, load_gold_pairs(gold))


def report(name: str, series: Labelled, rule: Rule) -> None:
    links = links_of(series.candidates, rule)
    score = score_links(links, series.gold)
    print(
        f"  {name}: {score.found} of {score.gold} gold pairs found, {score.links} links, "
        f"{score.correct} listed (threshold {rule.threshold}, margin {rule.margin})"
    )
    for i in score.unlisted:
        row = links.iloc[i]
        print(f"    unlisted {row.similarity:.3f}: {row.text_a[:110]!r}\n      <- {row.text_b[:110]!r}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/fit-recurrence"))
    parser.add_argument("--series", nargs=2, action="append", type=Path, metavar=("GOLD", "DOCS"))
    args = parser.parse_args(argv)
    extractor = TermExtractor(
        load_model("en_core_web_sm", exclude=("ner",)),
        load_word_list("theme_stopwords.txt") | load_word_list("advice_words.txt"),
    )
    vocabulary = Vocabulary(load_word_list("advice_words.txt"), load_concepts())
    series = [
        labelled(gold, processed(gold, docs, args.work), extractor, vocabulary)
        for gold, docs in (args.series or SERIES)
    ]
    for held in series:
        rest = [s for s in series if s is not held]
        if not rest:
            continue
        rule, f1 = fit_rule(rest)
        print(f"fitted on {', '.join(s.name for s in rest)} (F1 {f1:.2f} there); scored on {held.name}:")
        report(held.name, held, rule)
    rule, f1 = fit_rule(series)
    print(f"fitted on all (F1 {f1:.2f}, in-sample):")
    for s in series:
        report(s.name, s, rule)
    print(
        "\n[analyze] values to ship:\n"
        f"recurrence_threshold = {rule.threshold}\nrecurrence_margin = {rule.margin}\n"
        f'recurrence_fitted_on = "{rule.source}"'
    )


if __name__ == "__main__":
    main()
