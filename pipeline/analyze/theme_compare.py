"""The comparison of theme methods (NMF, LDA, k-means) on one criterion: evaluation work.

The pipeline fits only the configured method (``[analyze] method``, NMF); why NMF is the
evidence this comparison gives (README, *Themes: method and why*). LDA alone takes
minutes on a few thousand units, so no pipeline run calls this: evaluation does.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from pipeline.analyze.themes import METHODS, ThemeSettings, best_k, build_corpus, selection_table


def compare_theme_models(
    term_lists: Sequence[list[str]], settings: ThemeSettings, methods: Sequence[str] = METHODS
) -> pd.DataFrame:
    """Stability and coherence of every method at every candidate k on the units'
    ``term_lists`` (the terms the pipeline's theme model reads), with ``best`` marking
    each method's most stable k: columns method, k, stability, coherence, best."""
    corpus = build_corpus(term_lists)
    if corpus.n_units == 0 or not corpus.vocabulary:
        return pd.DataFrame(columns=["method", "k", "stability", "coherence", "best"])
    table = selection_table(corpus, settings, list(methods))
    best = {method: best_k(table, method) for method in methods}
    return table.assign(best=[best[m] == k for m, k in zip(table["method"], table["k"], strict=True)])
