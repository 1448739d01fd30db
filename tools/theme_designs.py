"""Compare theme designs against a reader's theme coding (e.g. tests/gold/dev/themes.json).

Runs ingest + extract once on a folder of memos (the processed/ tables and the unit terms
are cached under --work), then fits each design in memory and scores it: AMI between the
design's themes and the reader's codes on the coded units (matched to units by text), the
stability the design's k was chosen by, and how many earlier units keep their theme when
the last conference is added. The gold is only read to score, never to fit or name.

    python tools/theme_designs.py --raw tests/gold/dev/docs --only 's1-*' \
        --gold tests/gold/dev/themes.json --out docs/theme_designs.csv
"""

from __future__ import annotations

import argparse
import json
import pickle
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.analyze import theme_history as th_history
from pipeline.analyze import themes as th
from pipeline.analyze.corpus import conferences, content_units
from pipeline.analyze.theme_agreement import match_coded
from pipeline.cli import main as cli_main
from pipeline.tableio import read_table

NONE = "∅"


@dataclass
class Data:
    content: pd.DataFrame  # content units, in model row order
    terms: list  # UnitTerms per content unit
    is_rec: np.ndarray
    edition: np.ndarray  # conference_order per unit
    names: dict[str, list[str]]  # doc_id -> its meeting's names, venue, organizer (documents.csv)
    rich: np.ndarray | None = None  # substantive units, for the designs that fit on them


def prepare(raw: Path, only: str, work: Path) -> Data:
    """ingest + extract once into ``work`` (kept), then the terms of every content unit."""
    processed = work / "processed"
    if not (processed / "recommendations.csv").exists():
        (work / "raw").mkdir(parents=True, exist_ok=True)
        for path in sorted(raw.glob(only)):
            shutil.copy2(path, work / "raw" / path.name)
        for stage in ("ingest", "extract"):
            cli_main([stage, "--raw", str(work / "raw"), "--processed", str(processed), "--jobs", "1"])
    documents = read_table(processed / "documents.csv")
    units = read_table(processed / "units.csv")
    recs = read_table(processed / "recommendations.csv")
    content = content_units(units, conferences(documents))
    cache = work / "terms.pkl"
    if cache.exists():
        terms = pickle.loads(cache.read_bytes())
    else:
        from pipeline.analyze.term_cache import _extractor

        terms = _extractor("en_core_web_sm", 64).extract(content["text"].tolist())
        cache.write_bytes(pickle.dumps(terms))
    rec_keys = set(zip(recs["doc_id"], recs["unit_id"].astype(str), strict=True))
    keys = zip(content["doc_id"], content["unit_id"].astype(str), strict=True)
    is_rec = np.array([k in rec_keys for k in keys])
    return Data(content, terms, is_rec, content["conference_order"].to_numpy(),
        {d: th.meeting_names(documents[documents["doc_id"] == d]) for d in documents["doc_id"]},
    )


def match_gold(data: Data, gold: list[dict]) -> list[tuple[object, str]]:
    """(content row or None, code) per coded item (``theme_agreement.match_coded``)."""
    return match_coded(data.content.reset_index(drop=True), gold)


def ami(assigned: list[str], matched: list[tuple[object, str]]) -> float:
    from sklearn.metrics import adjusted_mutual_info_score

    rows = [int(i) if isinstance(i, int | np.integer) else None for i, _ in matched]
    pred = [assigned[i] if i is not None and assigned[i] else NONE for i in rows]
    return float(adjusted_mutual_info_score([c for _, c in matched], pred))


# --------------------------------------------------------------------------- designs


@dataclass
class Design:
    name: str
    focus: str  # "all", "recs", "substantive"
    features: str  # "nominal", "words", "phrases"
    series_stop: bool
    model: str = "nmf"  # "nmf", "embed", "hybrid", "baseline"
    k: int | str = "auto"


def unit_features(data: Data, design: Design, rows: np.ndarray) -> list[list[str]]:
    def pick(t) -> list[str]:
        if design.features == "words":
            return list(t.words)
        if design.features == "phrases":
            return th.theme_features(t.words, t.phrases)
        return t.nominal

    term_lists = [pick(data.terms[i]) for i in rows]
    if design.focus == "substantive":
        data.rich = th.focus_mask([False] * len(rows), [data.terms[i].nominal for i in rows])
    if design.series_stop:  # computed series terms and the meetings' names, as the pipeline does
        stop = th.series_stop_terms([data.terms[i].nominal for i in rows], data.edition[rows])
        names = {n for d in set(data.content["doc_id"].iloc[rows]) for n in data.names.get(d, [])}
        stop |= th.name_stop_terms(names, {t for terms in term_lists for t in terms})
        term_lists = th.without_series_terms(term_lists, stop)
    return term_lists


def focus_rows(data: Data, design: Design, scope: np.ndarray, term_lists: list[list[str]]) -> np.ndarray:
    if design.focus == "all":
        return scope
    if design.focus == "recs":
        return scope[data.is_rec[scope]]
    assert data.rich is not None
    return scope[data.is_rec[scope] | data.rich]


def run_design(
    data: Data, design: Design, editions: set[int], settings: th.ThemeSettings
) -> tuple[list[str], int, float]:
    """Theme of every content unit in ``editions`` (fitted on the focus units, the others
    projected), the k used and its stability."""
    scope = np.flatnonzero(np.isin(data.edition, sorted(editions)))
    term_lists = unit_features(data, design, scope)
    rows = focus_rows(data, design, scope, term_lists)
    position = {r: i for i, r in enumerate(scope)}
    fit_terms = [term_lists[position[r]] for r in rows]
    assigned = [""] * len(data.content)
    if design.model == "embed" or design.model == "hybrid":
        labels, k, stab = embed_themes(data, design, rows, fit_terms, settings)
        for r, lab in zip(rows, labels, strict=True):
            assigned[r] = str(lab)
        return assigned, k, stab
    if design.model == "seeded":
        corpus = th.build_corpus(fit_terms, [term_lists[position[r]] for r in scope])
        fitted = data.edition[rows]
        start = np.vstack([np.asarray(corpus.tfidf[fitted == e].mean(axis=0)) for e in sorted(set(fitted))])
        weights, terms = th.fit("nmf", corpus, len(start), settings.seed, initial=start)
        model = th.ThemeModel("nmf", len(start), weights, terms)
        for r, w in zip(scope, th.project(corpus, model, term_lists), strict=True):
            assigned[r] = str(int(np.argmax(w))) if w.sum() > 0 else ""
        return assigned, model.k, float("nan")
    run_settings = (
        settings if design.k == "auto" else th.ThemeSettings(**{**settings.__dict__, "n_themes": design.k})
    )
    model, corpus = th.fit_themes(fit_terms, run_settings)
    stab = (
        float(model.selection.loc[model.selection["chosen"], "stability"].iloc[0])
        if len(model.selection)
        else float("nan")
    )
    weights = th.project(corpus, model, term_lists)
    for r, w in zip(scope, weights, strict=True):
        assigned[r] = str(int(np.argmax(w))) if w.sum() > 0 else ""
    return assigned, model.k, stab


_EMBED: dict[str, np.ndarray] = {}


def embeddings(texts: list[str]) -> np.ndarray:
    from pathlib import Path as _P

    import wordllama
    from wordllama import WordLlama

    key = "\x1e".join(texts)
    if key not in _EMBED:
        wl = WordLlama.load(cache_dir=_P(wordllama.__file__).parent, disable_download=True)
        _EMBED[key] = np.asarray(wl.embed(texts, norm=True))
    return _EMBED[key]


def embed_themes(
    data: Data, design: Design, rows: np.ndarray, fit_terms, settings
) -> tuple[np.ndarray, int, float]:
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    vectors = embeddings(data.content["text"].iloc[rows].tolist())
    if design.model == "hybrid":
        corpus = th.build_corpus(fit_terms)
        tfidf = corpus.tfidf.toarray()
        vectors = np.hstack([vectors, tfidf])
    ks = [int(design.k)] if design.k != "auto" else list(range(settings.min_themes, settings.max_themes + 1))
    best = None
    for k in ks:
        full = KMeans(k, random_state=0, n_init=4).fit_predict(vectors)
        scores = []
        for s in range(settings.n_samples):
            rng = np.random.default_rng(s + 1)
            sub = np.sort(rng.choice(len(rows), int(0.8 * len(rows)), replace=False))
            part = KMeans(k, random_state=s + 1, n_init=4).fit_predict(vectors[sub])
            scores.append(adjusted_rand_score(full[sub], part))
        stab = float(np.mean(scores))
        if best is None or stab > best[2]:
            best = (full, k, stab)
    assert best is not None
    return best


DESIGNS = [
    Design("before: all units, words+phrases, k by stability", "all", "nominal", False, "baseline"),
    Design("recommendations, lemmas, k=7", "recs", "words", False, k=7),
    Design("recommendations, words+phrases, auto k", "recs", "nominal", False),
    Design("recommendations, words+phrases, series stop terms, auto k", "recs", "nominal", True),
    Design("recommendations, noun phrases first, series stop terms, auto k", "recs", "phrases", True),
    Design("recs + substantive sentences, lemmas, auto k", "substantive", "words", False),
    Design("recs + substantive sentences, words+phrases, auto k", "substantive", "nominal", False),
    Design(
        "recs + substantive sentences, words+phrases, series stop terms, auto k",
        "substantive",
        "nominal",
        True,
    ),
    Design("recs + substantive sentences, noun phrases first, auto k", "substantive", "phrases", False),
    Design(
        "recs + substantive sentences, noun phrases first, series stop terms, auto k",
        "substantive",
        "phrases",
        True,
    ),
    Design("all units, words+phrases, series stop terms, auto k", "all", "nominal", True),
    Design("all units, noun phrases first, series stop terms, auto k", "all", "phrases", True),
    Design(
        "seeded NMF: one theme per edition to start (its units' mean TF-IDF), recs + substantive, "
        "noun phrases first, series stop terms",
        "substantive",
        "phrases",
        True,
        "seeded",
    ),  # fmt: skip
    Design("recommendations, embeddings (wordllama) k-means, auto k", "recs", "nominal", False, "embed"),
    Design(
        "recs + substantive, embeddings (wordllama) k-means, auto k", "substantive", "nominal", False, "embed"
    ),
    Design(
        "recommendations, embeddings + TF-IDF k-means, series stop terms, auto k",
        "recs",
        "nominal",
        True,
        "hybrid",
    ),
]


def kept_share(before: list[str], after: list[str], rows: np.ndarray) -> float:
    """``theme_history.kept_share`` over ``rows``."""
    return th_history.kept_share([before[r] for r in rows], [after[r] for r in rows])


def product_run(data: Data, editions: set[int], settings: th.ThemeSettings, previous=None):
    """The design the pipeline uses (``themes.themes_for_run``), on the units of ``editions``."""
    from pipeline.analyze.theme_history import kept_model

    scope = np.flatnonzero(np.isin(data.edition, sorted(editions)))
    run = th.themes_for_run(
        [data.terms[i].nominal for i in scope],
        [th.theme_features(data.terms[i].words, data.terms[i].phrases) for i in scope],
        list(data.is_rec[scope]), list(data.edition[scope]), settings, previous=previous,
        names=sorted({n for d in set(data.content["doc_id"].iloc[scope]) for n in data.names.get(d, [])}),
        previous_themes=None if previous is None else previous.components_of(
            list(zip(data.content["doc_id"].iloc[scope], data.content["unit_id"].iloc[scope], strict=True))
        ),
    )  # fmt: skip
    themes, unit_rows = th.theme_tables(data.content.iloc[scope], run.model, run.corpus, pinned=run.pinned)
    assigned = [""] * len(data.content)
    for r, theme in zip(scope, unit_rows["theme"], strict=True):
        assigned[r] = theme
    chosen = run.model.selection
    stab = float(chosen.loc[chosen["chosen"], "stability"].iloc[0]) if len(chosen) else float("nan")
    return assigned, run.model.k, stab, kept_model(run, themes, unit_rows), themes


def continued_share(before: list[str], after: list[str], rows: np.ndarray) -> float:
    """Share of earlier themed units now in the theme that continues theirs: the new theme
    holding most of their earlier theme's units (themes may merge, not split)."""
    themed = [r for r in rows if before[r]]
    frame = pd.DataFrame({"before": [before[r] for r in themed], "after": [after[r] for r in themed]})
    if frame.empty:
        return float("nan")
    home = frame[frame["after"] != ""].groupby("before")["after"].agg(lambda a: a.value_counts().index[0])
    return float((frame["after"] == frame["before"].map(home)).mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--only", default="*")
    parser.add_argument("--gold", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/theme-designs"))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--designs", default="", help="comma-separated indexes (default: all)")
    args = parser.parse_args(argv)
    data = prepare(args.raw, args.only, args.work)
    matched = match_gold(data, json.loads(args.gold.read_text(encoding="utf-8")))
    print(
        f"{len(data.content)} content units, {int(data.is_rec.sum())} recommendations, "
        f"{sum(i is not None for i, _ in matched)} of {len(matched)} coded units matched",
        file=sys.stderr,
    )
    settings = th.ThemeSettings()
    editions = sorted(set(data.edition))
    earlier = np.flatnonzero(np.isin(data.edition, editions[:-1]))
    chosen = [DESIGNS[int(i)] for i in args.designs.split(",")] if args.designs else DESIGNS
    rows = []
    for design in chosen:
        runner: Callable = baseline if design.model == "baseline" else run_design
        assigned, k, stab = runner(data, design, set(editions), settings)
        before, _, _ = runner(data, design, set(editions[:-1]), settings)
        row = {
            "design": design.name,
            "k": k,
            "stability": round(stab, 3),
            "ami": round(ami(assigned, matched), 3),
            "kept_after_last_edition": round(kept_share(before, assigned, earlier), 3),
        }
        rows.append(row)
        print(row, file=sys.stderr)
    all_eds, first = set(editions), set(editions[:-1])
    assigned, k, stab, _, themes = product_run(data, all_eds, settings)
    before, k_before, _, saved, _ = product_run(data, first, settings)
    warm, k_warm, _, _, _ = product_run(data, all_eds, settings, previous=saved)
    print(f"k: first editions {k_before}, all after a re-fit from their model {k_warm}", file=sys.stderr)
    pinned_settings = th.ThemeSettings(**{**settings.__dict__, "pin_themes": True})
    pinned, _, _, _, _ = product_run(data, all_eds, pinned_settings, previous=saved)
    rows.append(
        {
            "design": "chosen (pipeline): recs + substantive sentences, noun phrases first, "
            "series stop terms, k by stability",
            "k": k,
            "stability": round(stab, 3),
            "ami": round(ami(assigned, matched), 3),
            "kept_after_last_edition": round(kept_share(before, assigned, earlier), 3),
            "kept_refit_from_kept_model": round(kept_share(before, warm, earlier), 3),
            "kept_pinned": round(kept_share(before, pinned, earlier), 3),
            "continued_refit_from_kept_model": round(continued_share(before, warm, earlier), 3),
            "ami_refit_from_kept_model": round(ami(warm, matched), 3),
        }
    )
    print(themes[["theme", "label", "n_units"]].to_string(index=False), file=sys.stderr)
    print(shifts(data, assigned, matched), file=sys.stderr)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    if args.out:
        table.to_csv(args.out, index=False)
    return 0


def shifts(data: Data, assigned: list[str], matched) -> pd.DataFrame:
    """Per theme: share of coded units by edition, and the reader codes it holds most."""
    frame = pd.DataFrame(
        [(data.edition[i], assigned[i], code) for i, code in matched if i is not None],
        columns=["edition", "theme", "code"],
    )
    shares = pd.crosstab(frame["theme"], frame["edition"], normalize="columns").round(2)
    codes = frame.groupby("theme")["code"].agg(
        lambda c: " ".join(f"{k}:{v}" for k, v in c.value_counts().items())
    )
    return shares.assign(codes=codes)


def baseline(data: Data, design: Design, editions: set[int], settings) -> tuple[list[str], int, float]:
    """The themes as fitted before this comparison: every content unit, its nominal terms."""
    rows = np.flatnonzero(np.isin(data.edition, sorted(editions)))
    model, _ = th.fit_themes([data.terms[i].nominal for i in rows], settings)
    assigned = [""] * len(data.content)
    for r, w in zip(rows, model.unit_weights, strict=True):
        assigned[r] = str(int(np.argmax(w))) if w.sum() > 0 else ""
    stab = float(model.selection.loc[model.selection["chosen"], "stability"].iloc[0])
    return assigned, model.k, stab


if __name__ == "__main__":
    raise SystemExit(main())
