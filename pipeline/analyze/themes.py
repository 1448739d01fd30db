"""Themes: topic models over the content units, the number of themes chosen by stability.

Units are short (one sentence or list item), so the model must find co-occurrence in very
little text. TF-IDF over lemmas and noun phrases (``terms.py``) factorised by NMF does
that well; LDA on counts and k-means on TF-IDF are fitted the same way for comparison.
The number of themes k is the smallest whose themes are about as *stable* as the most stable
k's (``best_k``): a model fitted on random 80 % subsamples of the units should group the
units as the model on all of them does
(Lange, Roth, Braun & Buhmann 2004, "Stability-based validation of clustering solutions";
Greene, O'Callaghan & Cunningham 2014 for topic models), measured by the adjusted Rand index
of the units' dominant themes. NPMI coherence of each theme's top terms is measured alongside.
Everything is seeded: the same units give the same themes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # scikit-learn and SciPy are imported where models are fitted: the report
    # imports this module for its label helpers and must start fast
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import TfidfVectorizer

METHODS = ("nmf", "lda", "kmeans")
SELECTION_COLUMNS = ["method", "k", "stability", "stability_se", "coherence", "chosen"]
TOP_TERMS = 10


@dataclass(frozen=True)
class ThemeSettings:
    """The [analyze] settings that shape themes (see pipeline/data/defaults.toml)."""

    n_themes: int | str = "auto"
    min_themes: int = 3
    max_themes: int = 10
    seed: int = 0
    method: str = "nmf"
    n_samples: int = 10  # subsamples per k for stability
    sample_fraction: float = 0.8
    min_units_per_theme: int = 5  # bounds k on small corpora
    selection_max_units: int = 2000  # above this, k is chosen on a seeded sample of units
    # keep the saved model (processed/theme_model.json): new units join existing themes
    pin_themes: bool = False
    # a re-fit keeps the previous k while its stability is within this of the best k's
    keep_k_tolerance: float = 0.1

    @classmethod
    def from_settings(cls, section: dict) -> ThemeSettings:
        known = {f: section[f] for f in cls.__dataclass_fields__ if f in section}
        return cls(**known)


@dataclass
class Corpus:
    """The unit-term matrices every method needs."""

    tfidf: csr_matrix
    counts: csr_matrix
    vocabulary: list[str]
    vectorizer: TfidfVectorizer | None = None

    @property
    def n_units(self) -> int:
        return self.tfidf.shape[0]


@dataclass
class ThemeModel:
    method: str
    k: int
    unit_weights: np.ndarray  # n_units x k, >= 0
    term_weights: np.ndarray  # k x n_terms, >= 0
    selection: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SELECTION_COLUMNS))
    selection_key: str = ""  # what the selection was cached under ("" when not chosen)
    dominant: np.ndarray | None = None  # each unit's theme when not simply its largest weight


def _identity(items: list[str]) -> list[str]:
    return items


def build_corpus(
    term_lists: Sequence[list[str]], background: Sequence[Sequence[str]] | None = None
) -> Corpus:
    """TF-IDF and count matrices over the same vocabulary.

    A term must occur in two units to say anything about co-occurrence (one unit, on a
    corpus of a few dozen, when there are fewer than 20 units), and a term in more than
    60 % of the units separates nothing. With ``background`` (e.g. every unit, when the
    themes are fitted on some), the vocabulary and IDF are learned from it instead, so
    every unit of it can be placed under the themes.
    """
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

    docs = [list(terms) for terms in term_lists]
    learn = docs if background is None else [list(terms) for terms in background]
    n = len(learn)
    min_df = 2 if n >= 20 else 1
    counter = CountVectorizer(analyzer=_identity, min_df=min_df, max_df=0.6 if n >= 20 else 1.0)
    try:
        learned = counter.fit_transform(learn)  # each text is counted once, here or below
    except ValueError:  # empty vocabulary
        counts = csr_matrix((len(docs), 0))
        return Corpus(counts, counts, [])
    vocabulary = list(counter.get_feature_names_out())
    weighting = TfidfTransformer(sublinear_tf=True).fit(learned)
    counts = (learned if background is None else counter.transform(docs)).tocsr()
    tfidf = weighting.transform(counts).tocsr()
    return Corpus(tfidf, counts, vocabulary, tfidf_vectorizer(vocabulary, weighting.idf_))


def tfidf_vectorizer(vocabulary: list[str], idf: Sequence[float] | np.ndarray) -> TfidfVectorizer:
    """A TF-IDF vectorizer over lists of terms with a given vocabulary and IDF (learned
    elsewhere: from a corpus's counts, or a kept model), for units that come later."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer=_identity, vocabulary=vocabulary, sublinear_tf=True)
    vectorizer.fit([vocabulary])  # sets up the vocabulary; the IDF is set below
    vectorizer.idf_ = np.asarray(idf, dtype=float)
    return vectorizer


def fit(
    method: str,
    corpus: Corpus,
    k: int,
    seed: int,
    rows: np.ndarray | None = None,
    initial: np.ndarray | None = None,
):
    """(unit weights, term weights) of one model; ``rows`` restricts it to a subsample.
    ``initial`` (k x terms, NMF only) starts the fit from earlier themes instead of NNDSVD."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import NMF, LatentDirichletAllocation
    from sklearn.exceptions import ConvergenceWarning

    tfidf = corpus.tfidf if rows is None else corpus.tfidf[rows]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if method == "nmf" and initial is not None and initial.shape == (k, tfidf.shape[1]):
            start = np.maximum(initial, 0) + 1e-6
            unit_start = _project(tfidf, start) + 1e-6
            model = NMF(n_components=k, init="custom", random_state=seed, max_iter=500)
            weights = model.fit_transform(tfidf, W=unit_start, H=start)
            return weights, model.components_
        if method == "nmf":
            model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=500)
            weights = model.fit_transform(tfidf)
            return weights, model.components_
        if method == "lda":
            counts = corpus.counts if rows is None else corpus.counts[rows]
            model = LatentDirichletAllocation(
                n_components=k, random_state=seed, learning_method="batch", max_iter=10,
                max_doc_update_iter=50,
            )  # fmt: skip
            weights = model.fit_transform(counts)
            return weights, model.components_
        if method == "kmeans":
            model = KMeans(n_clusters=k, random_state=seed, n_init=4).fit(tfidf)
            return np.eye(k)[model.labels_], np.clip(model.cluster_centers_, 0, None)
    raise ValueError(f"unknown theme method '{method}' (expected one of {', '.join(METHODS)})")


def stability(
    method: str, corpus: Corpus, k: int, settings: ThemeSettings, reference: np.ndarray | None = None
) -> float:
    """Mean of ``stability_scores``."""
    return float(np.mean(stability_scores(method, corpus, k, settings, reference)))


def stability_scores(
    method: str, corpus: Corpus, k: int, settings: ThemeSettings, reference: np.ndarray | None = None
) -> np.ndarray:
    """Agreement (adjusted Rand index) between the units' dominant themes in the full
    model and in models fitted on random subsamples, over the subsampled units.

    ``reference`` is the full model's unit weights when the caller has fitted it already
    (the same fit serves coherence and, without sampling, the final model). 1 = every
    subsample groups the units as the full model does; 0 = no better than chance.
    """
    from sklearn.metrics import adjusted_rand_score

    if k <= 1:
        return np.ones(1)
    if reference is None:
        reference, _ = fit(method, corpus, k, settings.seed)
    full = np.asarray(reference).argmax(axis=1)
    n = corpus.n_units
    size = max(k + 1, int(round(settings.sample_fraction * n)))
    scores = []
    for s in range(settings.n_samples):
        rng = np.random.default_rng(settings.seed + 1 + s)
        rows = np.sort(rng.choice(n, size=min(size, n), replace=False))
        weights, _ = fit(method, corpus, k, settings.seed + 1 + s, rows)
        scores.append(adjusted_rand_score(full[rows], np.asarray(weights).argmax(axis=1)))
    return np.asarray(scores, dtype=float)


def coherence(term_weights: np.ndarray, corpus: Corpus, top: int = TOP_TERMS) -> float:
    """Mean NPMI of each theme's top-term pairs, from their co-occurrence in units.

    1 = the terms always occur together, 0 = independent, -1 = never together.
    """
    if corpus.n_units == 0 or not len(term_weights):
        return 0.0
    present = (corpus.counts > 0).astype(float)
    n = corpus.n_units
    p = np.asarray(present.mean(axis=0)).ravel()
    values = []
    for row in term_weights:
        idx = np.argsort(-row, kind="stable")[:top]
        joint = (present[:, idx].T @ present[:, idx]).toarray() / n
        for i in range(len(idx)):
            for j in range(i + 1, len(idx)):
                pij = joint[i, j]
                if pij <= 0:
                    values.append(-1.0)
                elif pij >= 1:
                    values.append(1.0)
                else:
                    values.append(np.log(pij / (p[idx[i]] * p[idx[j]])) / -np.log(pij))
    return float(np.mean(values)) if values else 0.0


def k_range(n_units: int, n_terms: int, settings: ThemeSettings) -> list[int]:
    """Candidate numbers of themes, bounded so each theme can have a few units."""
    upper = min(int(settings.max_themes), n_units // max(1, settings.min_units_per_theme), n_terms)
    upper = max(1, upper)
    lower = max(1, min(int(settings.min_themes), upper))
    return list(range(lower, upper + 1))


Fits = dict[tuple[str, int], tuple[np.ndarray, np.ndarray]]
PARALLEL_MIN_UNITS = 1000  # below this, the selection is quicker than starting worker processes


def _measure(corpus: Corpus, settings: ThemeSettings, method: str, k: int) -> tuple[dict, tuple]:
    """One row of the selection table and the (method, k) model on ``corpus`` (fitted once:
    it is the stability reference, the coherence model and, unsampled, the final model)."""
    from threadpoolctl import threadpool_limits

    # many small fits: one thread each is several times faster than a thread pool, and the
    # result does not depend on how many cores the machine has
    with threadpool_limits(1):
        fitted = fit(method, corpus, k, settings.seed)
        scores = stability_scores(method, corpus, k, settings, fitted[0])
        error = scores.std(ddof=1) / np.sqrt(len(scores)) if len(scores) > 1 else 0.0
        row = {
            "method": method,
            "k": k,
            "stability": round(float(scores.mean()), 4),
            "stability_se": round(float(error), 4),
            "coherence": round(coherence(fitted[1], corpus), 4),
        }
    return row, fitted


def _measure_cell(shared: tuple[Corpus, ThemeSettings], cell: tuple[str, int]) -> tuple[dict, tuple]:
    return _measure(*shared, *cell)


def _selection(
    corpus: Corpus, settings: ThemeSettings, methods: Sequence[str], jobs: int = 1
) -> tuple[pd.DataFrame, Fits]:
    """The selection table, and each (method, k)'s model on ``corpus``. The cells are
    independent and deterministic, so ``jobs`` worker processes measure them with the same
    result as one."""
    cells = [(m, k) for m in methods for k in k_range(corpus.n_units, len(corpus.vocabulary), settings)]
    if jobs > 1 and len(cells) > 1 and corpus.n_units >= PARALLEL_MIN_UNITS:
        from pipeline.runner import fork_map

        measured = fork_map(_measure_cell, cells, (corpus, settings), jobs=jobs)
    else:
        measured = [_measure(corpus, settings, m, k) for m, k in cells]
    rows = [row for row, _ in measured]
    fits = {cell: fitted for cell, (_, fitted) in zip(cells, measured, strict=True)}
    return pd.DataFrame(rows, columns=SELECTION_COLUMNS[:-1]), fits


def selection_table(corpus: Corpus, settings: ThemeSettings, methods: Sequence[str]) -> pd.DataFrame:
    """Stability and coherence of every method at every candidate k."""
    return _selection(corpus, settings, methods)[0]


def best_k(table: pd.DataFrame, method: str) -> int:
    """The smallest k of a method as stable as its most stable k within one standard error
    of that k's estimate (the one-standard-error rule: Breiman, Friedman, Olshen & Stone
    1984; Hastie, Tibshirani & Friedman 2009, 7.10): on short units the stability of
    neighbouring k differs by less than its noise, and the larger k would only follow it."""
    rows = table[table["method"] == method].sort_values(["stability", "k"], ascending=[False, True])
    best = rows.iloc[0]
    error = float(best["stability_se"]) if "stability_se" in rows.columns else 0.0
    return int(rows[rows["stability"] >= best["stability"] - error]["k"].min())


def choose_method(table: pd.DataFrame) -> str:
    """The method whose most stable k is most stable; coherence breaks ties."""
    best = []
    for method in table["method"].unique():
        row = table[(table["method"] == method) & (table["k"] == best_k(table, method))].iloc[0]
        best.append((-row["stability"], -row["coherence"], method))
    return sorted(best)[0][2]


def selection_rows(
    n_units: int, settings: ThemeSettings, groups: Sequence[str] | None = None
) -> np.ndarray | None:
    """The units k is chosen on: ``None`` for all of them, or a sample of a large corpus
    (the stability of a k is a property of the kind of text, not of every last unit).

    With ``groups`` (one key per unit, e.g. its document's content hash) the sample is made
    of whole documents, taken in the order of a seeded hash of their key until
    ``selection_max_units`` is reached: adding a memo then leaves the sample as it was,
    unless the new memo itself falls into it, and the selection can be reused. Without
    groups, a seeded random sample of units.
    """
    if n_units <= settings.selection_max_units:
        return None
    if groups is None:
        rng = np.random.default_rng(settings.seed)
        return np.sort(rng.choice(n_units, size=settings.selection_max_units, replace=False))
    members: dict[str, list[int]] = {}
    for row, key in enumerate(groups):
        members.setdefault(key, []).append(row)
    ranked = sorted(members, key=lambda key: hashlib.sha256(f"{settings.seed}\x1f{key}".encode()).hexdigest())
    rows: list[int] = []
    for key in ranked:
        if rows and len(rows) + len(members[key]) > settings.selection_max_units:
            break
        rows += members[key]
    return np.sort(np.asarray(rows))


class SelectionCache(Protocol):
    """Where a selection table can be kept between runs (``pipeline.cache.DocumentCache``)."""

    def get(self, key: str) -> Any | None: ...

    def put(self, key: str, value: Any) -> None: ...


def _selection_key(term_lists: Sequence[list[str]], settings: ThemeSettings, methods: Sequence[str]) -> str:
    """What a selection table depends on: the units it was measured on and the settings."""
    digest = hashlib.sha256()
    shaping = (
        settings.min_themes, settings.max_themes, settings.seed, settings.n_samples,
        settings.sample_fraction, settings.min_units_per_theme, tuple(methods),
    )  # fmt: skip
    digest.update(repr(shaping).encode())
    for terms in term_lists:
        digest.update("\x1f".join(terms).encode("utf-8", "surrogatepass"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def fit_themes(
    term_lists: Sequence[list[str]],
    settings: ThemeSettings,
    jobs: int = 1,
    groups: Sequence[str] | None = None,
    cache: SelectionCache | None = None,
    initial: Callable[[list[str]], np.ndarray] | None = None,
    previous_k: int = 0,
    background: Sequence[Sequence[str]] | None = None,
) -> tuple[ThemeModel, Corpus]:
    """The theme model of a corpus, with the table of how it was chosen.

    ``previous_k`` (the k of the model kept from the last run) is kept while its stability
    is within ``keep_k_tolerance`` of the chosen k's; ``initial`` (its term weights over a
    given vocabulary) then starts the fit, with new themes after the kept ones when k grows
    (``_with_new_themes``), so adding memos moves few units. ``background``: see
    ``build_corpus``.

    The selection is measured over ``jobs`` processes on a large corpus (the result does
    not depend on ``jobs``), on the sample ``selection_rows`` gives (``groups``: see
    there), and is kept in ``cache`` keyed by what it depends on (on a large corpus, the
    documents of the sample), so a run whose sample did not change reuses it. The final
    model is always fitted on every unit.
    """
    from threadpoolctl import threadpool_limits

    corpus = build_corpus(term_lists, background)
    if corpus.n_units == 0 or not corpus.vocabulary:
        empty = ThemeModel(settings.method, 0, np.zeros((corpus.n_units, 0)), np.zeros((0, 0)))
        return empty, corpus
    method = settings.method if settings.method in METHODS else "auto"
    methods = list(METHODS) if method == "auto" else [method]
    fits: Fits = {}
    key = ""
    if str(settings.n_themes).strip().lower() != "auto":
        k = max(1, min(int(settings.n_themes), corpus.n_units, len(corpus.vocabulary)))
        table = pd.DataFrame(columns=SELECTION_COLUMNS[:-1])
        if method == "auto":
            method = "nmf"
    else:
        rows = selection_rows(corpus.n_units, settings, groups)
        sample_terms = term_lists if rows is None else [term_lists[i] for i in rows]
        # a sample of whole documents is known by its documents: the series terms left out of
        # the features may move a little with a memo outside the sample; the stability of each
        # k, a property of the kind of text, does not
        sampled = sample_terms if rows is None or groups is None else [[groups[i]] for i in rows]
        key = _selection_key(sampled, settings, methods)
        table = cache.get(key) if cache is not None else None
        if table is None:
            # the sample is a corpus of its own: its TF-IDF depends on nothing outside it
            sample = corpus if rows is None else build_corpus(sample_terms)
            table, fits = _selection(sample, settings, methods, jobs)
            if cache is not None:
                cache.put(key, table)
            if rows is not None:
                fits = {}  # fitted on the sample: the final model needs all units
        if method == "auto":
            method = choose_method(table)
        k = best_k(table, method)
        mine = table[table["method"] == method].set_index("k")["stability"]
        if previous_k in mine.index and mine[previous_k] >= mine[k] - settings.keep_k_tolerance:
            k = previous_k
    start = initial(corpus.vocabulary) if initial is not None and method == "nmf" else None
    if start is not None and 0 < len(start) < k and start.shape[1] == len(corpus.vocabulary):
        start = _with_new_themes(corpus, start, k, settings.seed)
    warm = start is not None and start.shape == (k, len(corpus.vocabulary)) and bool(start.any())
    if (method, k) in fits and not warm:
        weights, terms = fits[method, k]
    else:
        with threadpool_limits(1):  # as in the selection: the same fit on any machine
            weights, terms = fit(method, corpus, k, settings.seed, initial=start if warm else None)
    table = table.assign(chosen=(table["method"] == method) & (table["k"] == k))
    model = ThemeModel(method, k, np.asarray(weights), np.asarray(terms), table, selection_key=key)
    return model, corpus


def _with_new_themes(corpus: Corpus, start: np.ndarray, k: int, seed: int) -> np.ndarray:
    """The kept themes followed by ``k - len(start)`` new ones, found by NMF in what the kept
    themes leave unexplained: a re-fit that needs more themes adds them and keeps the others
    as they were, so their units stay put."""
    from scipy.sparse import csr_matrix
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning

    kept = np.maximum(start, 0)
    weights = _project(corpus.tfidf, kept)
    # the positive part of X - WH is zero wherever X is: computed on X's entries only
    cells = corpus.tfidf.tocoo()
    explained = np.einsum("ij,ji->i", weights[cells.row], kept[:, cells.col])
    left = np.maximum(cells.data - explained, 0)
    residual = csr_matrix((left, (cells.row, cells.col)), shape=corpus.tfidf.shape)
    residual.eliminate_zeros()
    new = k - len(kept)
    if np.count_nonzero(residual.getnnz(axis=1)) < new:
        return kept
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = NMF(n_components=new, init="nndsvda", random_state=seed, max_iter=500).fit(residual)
    return np.vstack([kept, model.components_])


def series_stop_terms(
    term_lists: Sequence[Sequence[str]],
    editions: Sequence[object],
    min_share: float = 0.8,
    min_evenness: float = 0.9,
    min_editions: int = 3,
    max_terms: int = 25,
    max_share: float = 0.1,
) -> frozenset[str]:
    """Terms that mark the series rather than a subject: its name, venue, organizer.

    Such a term is found in nearly every edition (``min_share`` of them) and at about the
    same rate in each: the evenness of its per-edition rate (entropy over the editions,
    1 = the same rate everywhere) is at least ``min_evenness``. A subject term may be named
    in every edition too, but it peaks where the subject is discussed. Needs
    ``min_editions`` editions: with fewer, "every edition" says nothing. A series has a
    few such names, not hundreds: at most ``max_terms`` and ``max_share`` of all terms, the
    most even first (editions that all say the same things, as a corpus recombined from a
    few memos does, keep their vocabulary).
    """
    index = {e: i for i, e in enumerate(dict.fromkeys(editions))}
    if len(index) < min_editions:
        return frozenset()
    sizes = np.zeros(len(index))
    counts: dict[str, np.ndarray] = {}
    for terms, edition in zip(term_lists, editions, strict=True):
        sizes[index[edition]] += 1
        for term in set(terms):
            counts.setdefault(term, np.zeros(len(index)))[index[edition]] += 1
    needed = max(min_editions, int(np.ceil(min_share * len(index))))
    even: list[tuple[float, str]] = []
    for term, row in counts.items():
        if (row > 0).sum() < needed:
            continue
        rate = row / np.maximum(sizes, 1)
        p = rate[rate > 0] / rate.sum()
        evenness = float(-(p * np.log(p)).sum() / np.log(len(index)))
        if evenness >= min_evenness:
            even.append((-evenness, term))
    limit = min(max_terms, int(max_share * len(counts)))
    return frozenset(term for _, term in sorted(even)[:limit])


_NAME_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def _name_forms(term: str) -> set[str]:
    """How a lemma can be written in a name: itself and its plural ("control" ->
    "controls", "agency" -> "agencies")."""
    forms = {term, term + "s", term + "es"}
    if term.endswith("y"):
        forms.add(term[:-1] + "ies")
    return forms


NAME_COLUMNS = ("conference", "series", "venue", "organizer")


def meeting_names(documents: pd.DataFrame) -> list[str]:
    """The distinct meeting names, venues and organizers documents.csv gives (``NAME_COLUMNS``)."""
    columns = [c for c in NAME_COLUMNS if c in documents.columns]
    values = documents[columns].fillna("").astype(str).to_numpy().ravel() if columns else []
    return sorted({v.strip() for v in values if v.strip()})


def name_stop_terms(names: Iterable[str], vocabulary: Iterable[str]) -> frozenset[str]:
    """Terms of ``vocabulary`` that are words of the meeting's own names: its conference and
    series name, venue and organizer as documents.csv gives them ("Straits Institute for
    Security and Trade", "Kuala Lumpur"). A word is matched as written or in the plural, and
    a phrase when all its words are name words; stop words of the names ("for", "the") are
    not name words. Read from each corpus's metadata: nothing is listed."""
    from spacy.lang.en.stop_words import STOP_WORDS  # a word list, not a model

    words: set[str] = set()
    for name in names:
        for word in _NAME_WORD.findall(str(name).lower()):
            words.update(w for w in word.split("-") if len(w) >= 3 and w not in STOP_WORDS)
    return frozenset(
        term for term in vocabulary if term.split() and all(_name_forms(w) & words for w in term.split())
    )


def without_series_terms(
    term_lists: Sequence[Sequence[str]], stop: frozenset[str] | set[str]
) -> list[list[str]]:
    """The terms minus the series' own, and minus phrases built on a series phrase
    ("southeast asia dialogue" when "southeast asia" is one)."""
    phrases = [f" {p} " for p in stop if " " in p]
    verdicts: dict[str, bool] = {}  # each distinct term is judged once

    def kept(term: str) -> bool:
        verdict = verdicts.get(term)
        if verdict is None:
            padded = f" {term} "
            verdict = verdicts[term] = term not in stop and not any(p in padded for p in phrases)
        return verdict

    return [[t for t in terms if kept(t)] for terms in term_lists]


def theme_features(words: Sequence[str], phrases: Sequence[str]) -> list[str]:
    """What a unit is about, for themes: its noun phrases ("control list", "free trade
    zone") and the words that head none of them. A head word alone ("list", "zone") would
    join units the phrases keep apart."""
    heads = {p.rsplit(" ", 1)[-1] for p in phrases}
    return [*phrases, *(w for w in words if w not in heads)]


def focus_mask(
    is_recommendation: Sequence[bool], term_lists: Sequence[Sequence[str]], min_terms: int = 6
) -> np.ndarray:
    """The units themes are fitted on: the recommendations and the substantive sentences,
    those with at least ``min_terms`` distinct terms. Short procedural sentences ("The
    meeting was opened by ...") would otherwise make themes of their own."""
    recs = np.asarray(is_recommendation, dtype=bool)
    rich = np.array([len(set(t)) >= min_terms for t in term_lists], dtype=bool)
    return recs | rich if len(recs) else rich


def _project(tfidf: csr_matrix, term_weights: np.ndarray, iterations: int = 200) -> np.ndarray:
    """Unit weights under fixed term weights: non-negative least squares by multiplicative
    updates, all units at once."""
    n, k = tfidf.shape[0], term_weights.shape[0]
    numerator = np.asarray(tfidf @ term_weights.T)
    gram = term_weights @ term_weights.T
    weights = np.full((n, k), 0.1)
    weights[numerator.sum(axis=1) <= 0] = 0.0
    for _ in range(iterations):
        weights *= numerator / np.maximum(weights @ gram, 1e-12)
    return weights


def project(corpus: Corpus, model: ThemeModel, term_lists: Sequence[Sequence[str]]) -> np.ndarray:
    """Theme weights of units under a fitted model's themes (its term weights held fixed)."""
    if not model.k or corpus.vectorizer is None or not len(term_lists):
        return np.zeros((len(term_lists), model.k))
    return _project(corpus.vectorizer.transform([list(t) for t in term_lists]), model.term_weights)


MIN_FOCUS_UNITS = 20  # fewer recommendations and substantive sentences: fit on every unit
# after a re-fit from the kept model, a unit stays in its earlier theme while that theme
# holds at least this share of the unit's largest theme weight: near-ties do not move it
KEEP_THEME_RATIO = 0.4


@dataclass
class RunThemes:
    """The themes of one run: weights of every content unit, the corpus the themes' terms
    index, the series terms left out, and, when the kept model was used, its theme numbers
    and labels (one per component)."""

    model: ThemeModel
    corpus: Corpus
    stop_terms: list[str]
    pinned: tuple[list[str], list[str]] | None = None
    source: str = "fitted"  # "fitted", "pinned" (pin_themes) or "unchanged" (same units as the kept model)
    fit_key: str = ""  # what the themes were fitted from (``_run_key``)


class KeptModel(Protocol):
    """A model kept from an earlier run (``theme_history.SavedModel``)."""

    method: str
    term_weights: np.ndarray
    numbers: list[str]
    labels: list[str]
    stop_terms: list[str]
    fit_key: str
    selection: pd.DataFrame

    @property
    def k(self) -> int: ...

    def corpus_of(self, term_lists: list[list[str]]) -> Corpus: ...

    def initial_weights(self, vocabulary: list[str]) -> np.ndarray: ...


def _like_nearest(weights: np.ndarray, term_lists: Sequence[Sequence[str]]) -> np.ndarray:
    """Units without any term of the themes' vocabulary (known only by rare phrases, such as
    "industry engagement" said once) take the weights of the placed unit closest to them
    by all their terms; a unit sharing no term with any placed unit stays unplaced."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    blank = weights.sum(axis=1) <= 0 if weights.shape[1] else np.zeros(len(weights), dtype=bool)
    if not blank.any() or blank.all():
        return weights
    try:
        vectors = TfidfVectorizer(analyzer=_identity).fit_transform([list(t) for t in term_lists])
    except ValueError:  # no term at all
        return weights
    placed = np.flatnonzero(~blank)
    similarity = (vectors[blank] @ vectors[placed].T).tocsr()  # sparse: few terms are shared
    nearest = np.asarray(similarity.argmax(axis=1)).ravel()
    found = similarity.max(axis=1).toarray().ravel() > 0
    rows = np.flatnonzero(blank)
    weights = weights.copy()
    weights[rows[found]] = weights[placed[nearest[found]]]
    return weights


def themes_for_run(
    nominal: Sequence[Sequence[str]],
    features: Sequence[Sequence[str]],
    is_recommendation: Sequence[bool],
    editions: Sequence[object],
    settings: ThemeSettings,
    jobs: int = 1,
    groups: Sequence[str] | None = None,
    cache: SelectionCache | None = None,
    previous: KeptModel | None = None,
    previous_themes: Sequence[int] | None = None,
    names: Sequence[str] = (),
) -> RunThemes:
    """Themes of every content unit.

    The series' own terms (``series_stop_terms``) and the words of the meetings' ``names``
    (``name_stop_terms``; ``meeting_names`` reads them from documents.csv) are left out,
    and a re-fit keeps leaving out the kept model's; the model is fitted on the
    recommendations and substantive sentences (``focus_mask``) and every unit is then
    placed under its themes (``project``). With ``pin_themes`` and a kept model, nothing
    is fitted: the units are placed under the kept themes. A re-fit starts from the kept
    model and keeps its k unless another k is clearly more stable; then a unit keeps its
    earlier theme (pinned: always) (``previous_themes``: its component in the kept model, -1 for none)
    unless another theme clearly outweighs it (``KEEP_THEME_RATIO``).
    """
    key = _run_key(nominal, features, is_recommendation, editions, settings, names)
    unchanged = previous is not None and previous.fit_key == key
    if previous is not None and previous.k and (settings.pin_themes or unchanged):
        lists = without_series_terms(features, set(previous.stop_terms))
        corpus = previous.corpus_of(lists)
        weights = _project(corpus.tfidf, previous.term_weights)
        weights = _like_nearest(weights, without_series_terms(nominal, set(previous.stop_terms)))
        dominant = None
        if previous_themes is not None:  # earlier units stay where the kept model put them
            dominant = np.where(np.asarray(previous_themes) >= 0, previous_themes, weights.argmax(axis=1))
        model = ThemeModel(
            previous.method, previous.k, weights, previous.term_weights, previous.selection, dominant=dominant
        )
        source = "unchanged" if unchanged else "pinned"
        return RunThemes(
            model, corpus, list(previous.stop_terms), (previous.numbers, previous.labels), source, key
        )
    vocabulary = {term for terms in (*nominal, *features) for term in terms}
    stop = series_stop_terms(nominal, editions) | name_stop_terms(names, vocabulary)
    if previous is not None:  # the kept model's series terms stay left out: its themes continue
        stop |= set(previous.stop_terms)
    lists = without_series_terms(features, stop)
    focus = focus_mask(is_recommendation, nominal)
    if focus.sum() < MIN_FOCUS_UNITS:
        focus = np.ones(len(lists), dtype=bool)
    rows = np.flatnonzero(focus)
    fit_groups = None if groups is None else [groups[int(i)] for i in rows]
    fitted, corpus = fit_themes(
        [lists[i] for i in rows], settings, jobs, fit_groups, cache,
        initial=None if previous is None else previous.initial_weights,
        previous_k=0 if previous is None else previous.k, background=lists,
    )  # fmt: skip
    weights = _like_nearest(project(corpus, fitted, lists), without_series_terms(nominal, stop))
    dominant = None
    # components started from the kept model's continue its themes (new ones come after them)
    if previous is not None and previous_themes is not None and fitted.k >= previous.k and len(weights):
        dominant = weights.argmax(axis=1)
        earlier = np.asarray(previous_themes)
        rows = np.flatnonzero((earlier >= 0) & (earlier < fitted.k))
        held = weights[rows, earlier[rows]]
        stays = rows[held >= KEEP_THEME_RATIO * weights[rows].max(axis=1)]
        dominant[stays] = earlier[stays]
    model = dataclasses.replace(fitted, unit_weights=weights, dominant=dominant)
    return RunThemes(model, corpus, sorted(stop), fit_key=key)


def _run_key(
    nominal: Sequence[Sequence[str]],
    features: Sequence[Sequence[str]],
    is_recommendation: Sequence[bool],
    editions: Sequence[object],
    settings: ThemeSettings,
    names: Sequence[str] = (),
) -> str:
    """What a run's themes are fitted from: a run with the same key as the kept model's
    reuses it (a forced re-run gives the same tables)."""
    digest = hashlib.sha256(repr(dataclasses.replace(settings, pin_themes=False)).encode())
    for terms in (*nominal, *features):
        digest.update("\x1f".join(terms).encode("utf-8", "surrogatepass") + b"\x1e")
    digest.update(np.asarray(is_recommendation, dtype=bool).tobytes())
    digest.update(repr(list(editions)).encode())
    digest.update(repr(sorted(set(names))).encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------- labels


def _contains(longer: str, shorter: str) -> bool:
    a, b = longer.split(), shorter.split()
    return any(a[i : i + len(b)] == b for i in range(len(a) - len(b) + 1))


def distinct_terms(terms: Sequence[str], limit: int) -> list[str]:
    """Top terms without repeats: "dual benefit model" absorbs "dual benefit" and "model".

    A term contained in one already listed is skipped; a phrase containing a listed term
    takes its place (the phrase reads better than its head word).
    """
    chosen: list[str] = []
    for term in terms:
        if any(_contains(c, term) for c in chosen):
            continue
        inside = [i for i, c in enumerate(chosen) if _contains(term, c)]
        if inside:
            chosen[inside[0]] = term
            for i in reversed(inside[1:]):
                del chosen[i]
            continue
        chosen.append(term)
        if len(chosen) >= limit:
            break
    return chosen[:limit]


def theme_label(ranked_terms: Sequence[str], display: Callable[[str], str] = str, n_parts: int = 3) -> str:
    """A readable label: the theme's top key phrases, e.g. "dual benefit model · region".

    Multiword phrases among the top terms come first (up to two), then the best single
    words not already inside them.
    """
    top = list(ranked_terms[:12])
    phrases = [t for t in top[:8] if " " in t][:2]
    parts = distinct_terms(phrases + [t for t in top if t not in phrases], n_parts)
    order = {t: i for i, t in enumerate(top)}
    parts.sort(key=lambda t: order.get(t, len(top)))
    return " · ".join(display(t) for t in parts)


# --------------------------------------------------------------------------- tables


THEME_COLUMNS = [
    "theme", "label", "top_terms", "n_units", "method", "k", "representative_units", "component",
]  # fmt: skip
UNIT_THEME_COLUMNS = [
    "doc_id", "unit_id", "theme", "label", "weight", "rank", "conference", "year", "text",
]  # fmt: skip
SHARE_COLUMNS = [
    "theme", "label", "year", "conference", "conference_label", "conference_order",
    "share", "n_units", "n_conference_units", "change",
]  # fmt: skip


def theme_tables(
    units: pd.DataFrame,
    model: ThemeModel,
    corpus: Corpus,
    display: Callable[[str], str] = str,
    n_representative: int = 3,
    pinned: tuple[Sequence[str], Sequence[str]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """themes.csv and unit_themes.csv.

    ``units`` are the content units in the order of the model's rows. Each unit belongs to
    its dominant theme; ``weight`` is that theme's share of the unit's weights (how clearly
    the unit is about it). Units without any vocabulary term stay unassigned (theme empty).
    Themes are numbered 1.. by size, so the largest theme is theme 1; ``pinned`` (theme
    number and label of each component) keeps a kept model's numbers and labels.
    """
    k = model.k
    weights = model.unit_weights if k else np.zeros((len(units), 0))
    totals = weights.sum(axis=1) if k else np.zeros(len(units))
    if model.dominant is not None and k:
        dominant = np.asarray(model.dominant)
    else:
        dominant = weights.argmax(axis=1) if k else np.zeros(len(units), dtype=int)
    assigned = totals > 0
    held = weights[np.arange(len(units)), dominant] if k else totals
    share = np.where(assigned, held / np.where(assigned, totals, 1), 0.0) if k else totals
    sizes = np.bincount(dominant[assigned], minlength=k) if k else np.zeros(0, dtype=int)
    ranked_terms = [
        [corpus.vocabulary[i] for i in np.argsort(-model.term_weights[j], kind="stable")[: TOP_TERMS * 2]]
        for j in range(k)
    ]
    if pinned is not None:
        labels = list(pinned[1])
        number = {j: int(n) for j, n in enumerate(pinned[0])}
        order = sorted(range(k), key=lambda j: number[j])
    else:
        labels = [theme_label(terms, display) for terms in ranked_terms]
        # number themes by size, then label, so ids do not depend on the factorisation's order
        order = sorted(range(k), key=lambda j: (-sizes[j], labels[j]))
        number = {j: i + 1 for i, j in enumerate(order)}

    unit_rows = units[["doc_id", "unit_id", "conference", "year", "text"]].copy()
    unit_rows["theme"] = [str(number[d]) if a else "" for d, a in zip(dominant, assigned, strict=True)]
    unit_rows["label"] = [labels[d] if a else "" for d, a in zip(dominant, assigned, strict=True)]
    unit_rows["weight"] = np.round(share, 4)
    unit_rows["_raw"] = held
    unit_rows["_pos"] = range(len(unit_rows))
    unit_rows["rank"] = ""
    representative: dict[str, list[str]] = {}
    for theme, group in unit_rows[unit_rows["theme"] != ""].groupby("theme", sort=False):
        ordered = group.sort_values(["weight", "_raw", "_pos"], ascending=[False, False, True], kind="stable")
        unit_rows.loc[ordered.index, "rank"] = [str(i + 1) for i in range(len(ordered))]
        representative[theme] = [
            f"{d}#{u}"
            for d, u in zip(
                ordered["doc_id"][:n_representative], ordered["unit_id"][:n_representative], strict=True
            )
        ]
    unit_rows = unit_rows.drop(columns=["_raw", "_pos"])[UNIT_THEME_COLUMNS]

    themes = pd.DataFrame(
        [
            {
                "theme": str(number[j]),
                "label": labels[j],
                "top_terms": " · ".join(display(t) for t in distinct_terms(ranked_terms[j], TOP_TERMS)),
                "n_units": int(sizes[j]),
                "method": model.method,
                "k": k,
                "representative_units": ";".join(representative.get(str(number[j]), [])),
                "component": j,
            }
            for j in order
        ],
        columns=THEME_COLUMNS,
    )
    return themes, unit_rows


def theme_shares(
    unit_themes: pd.DataFrame, themes: pd.DataFrame, conference_list: pd.DataFrame
) -> pd.DataFrame:
    """Each theme's share of each conference's assigned units, and the change from the
    conference before (empty for the first). Long format: one row per theme x conference,
    so a new conference adds rows, not columns."""
    rows = []
    assigned = unit_themes[unit_themes["theme"] != ""]
    for conf in conference_list.itertuples(index=False):
        mine = assigned[(assigned["conference"] == conf.conference) & (assigned["year"] == conf.year)]
        total = len(mine)
        counts = mine["theme"].value_counts()
        for theme in themes.itertuples(index=False):
            n = int(counts.get(theme.theme, 0))
            rows.append(
                {
                    "theme": theme.theme, "label": theme.label,
                    "year": conf.year, "conference": conf.conference,
                    "conference_label": conf.conference_label,
                    "conference_order": conf.conference_order,
                    "share": round(n / total, 4) if total else 0.0,
                    "n_units": n, "n_conference_units": total,
                }
            )  # fmt: skip
    shares = pd.DataFrame(rows, columns=SHARE_COLUMNS[:-1])
    if shares.empty:
        return pd.DataFrame(columns=SHARE_COLUMNS)
    shares = shares.sort_values(["theme", "conference_order"], key=_theme_key, kind="stable")
    shares["change"] = shares.groupby("theme")["share"].diff().round(4)
    shares["change"] = shares["change"].astype(object).where(shares["change"].notna(), "")
    shares = shares.sort_values(["conference_order", "theme"], key=_theme_key, kind="stable")
    return shares.reset_index(drop=True)[SHARE_COLUMNS]


def _theme_key(column: pd.Series) -> pd.Series:
    return pd.to_numeric(column, errors="coerce") if column.name == "theme" else column


def assign_themes(
    term_lists: Sequence[list[str]], corpus: Corpus, model: ThemeModel, themes: pd.DataFrame
) -> list[str]:
    """Theme of units the model was not fitted on (e.g. a recommendation that is a heading):
    the theme whose term profile is closest by cosine; empty when no term is known."""
    if not model.k or corpus.vectorizer is None or not len(term_lists):
        return [""] * len(term_lists)
    vectors = corpus.vectorizer.transform([list(t) for t in term_lists]).toarray()
    profiles = model.term_weights / np.maximum(
        np.linalg.norm(model.term_weights, axis=1, keepdims=True), 1e-12
    )
    scores = vectors @ profiles.T
    by_component = dict(zip(themes["component"].astype(int), themes["theme"], strict=True))
    return [by_component[int(np.argmax(row))] if row.max() > 0 else "" for row in scores]
