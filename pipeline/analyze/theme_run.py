"""The themes of one analyze run: fitted (or, pinned, taken from the kept model), tabled,
compared with the previous run's, and kept for the next one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.analyze.stage import AnalysisInputs, ThemeResult
from pipeline.analyze.theme_history import (
    CHANGE_COLUMNS,
    MOVE_THRESHOLD,
    kept_model,
    kept_units,
    load_model,
    refit_reason,
    theme_changes,
)  # fmt: skip
from pipeline.analyze.themes import assign_themes, theme_shares, theme_tables, themes_for_run
from pipeline.cache import DocumentCache, code_fingerprint
from pipeline.tableio import read_table


def _previous_table(processed: Path, name: str) -> pd.DataFrame:
    path = processed / f"{name}.csv"
    try:
        return read_table(path) if path.exists() else pd.DataFrame()
    except (ValueError, OSError):
        return pd.DataFrame()


def run_themes(inputs: AnalysisInputs) -> ThemeResult:
    """The theme tables of a run. The choice of k is cached by what it depends on
    (``themes.fit_themes``), so a new memo outside the selection sample does not redo it."""
    processed = Path(inputs.processed)
    previous = load_model(processed)
    cache = DocumentCache(Path(inputs.cache_root), "analyze-themes", code_fingerprint("analyze/themes.py"))
    editions = list(zip(inputs.content["conference"], inputs.content["year"], strict=True))
    keys = list(zip(inputs.content["doc_id"], inputs.content["unit_id"], strict=True))
    run = themes_for_run(
        inputs.content_terms, inputs.content_features, inputs.is_recommendation, editions,
        inputs.theme_settings, max(1, inputs.jobs - 1), inputs.content_groups, cache, previous,
        None if previous is None else previous.components_of(keys), inputs.meeting_names,
    )  # fmt: skip
    if run.source == "fitted":
        cache.prune([run.model.selection_key] if run.model.selection_key else [])
    display = inputs.display
    themes, unit_themes = theme_tables(
        inputs.content, run.model, run.corpus, lambda term: display.get(term, term), pinned=run.pinned
    )
    shares = theme_shares(unit_themes, themes, inputs.conference_list)
    other_units: dict[tuple[str, str], str] = {}
    if inputs.others and run.model.k:
        found = assign_themes(inputs.others_features, run.corpus, run.model, themes)
        other_units = dict(zip(inputs.others, found, strict=True))

    refitted = run.source == "fitted"
    reason = refit_reason(previous, run.model.k, run.corpus.vocabulary, run.stop_terms) if refitted else ""
    previous_units = _previous_table(processed, "unit_themes")
    kept = kept_units(previous_units, unit_themes)
    if refitted and previous is not None:
        changes = theme_changes(
            previous_units,
            _previous_table(processed, "theme_shares"),
            unit_themes,
            shares,
            reason or "new units",
        )
    else:
        changes = pd.DataFrame(columns=CHANGE_COLUMNS)
    model_json = kept_model(run, themes, unit_themes).to_json() if refitted else ""
    stability = {
        "source": run.source,
        "pinned": run.source == "pinned",
        "refitted": refitted and previous is not None,
        "reason": reason,
        "n_shares_moved": int(len(changes)),
        # earlier themed units still in their theme (themes matched one to one); null on a first run
        "kept_units_share": None if np.isnan(kept) else round(kept, 4),
        "move_threshold": MOVE_THRESHOLD,
        "series_terms_left_out": list(run.stop_terms),
        "message": _message(run.source, previous is not None, reason, changes),
    }
    return ThemeResult(
        themes, unit_themes, shares, run.model.selection, run.model.method, run.model.k, other_units, changes,
        stability, model_json,
    )  # fmt: skip


def _message(source: str, had_previous: bool, reason: str, changes: pd.DataFrame) -> str:
    """What the terminal and the report say about the themes of this run."""
    if source == "pinned":
        return "analyze: themes pinned (pin_themes = true): new units assigned to the kept themes"
    if source == "unchanged" or not had_previous:
        return ""
    moved = "; ".join(
        f"{row.label} in {row.conference_label}: {row.previous_share:.0%} → {row.share:.0%}"
        for row in changes.head(5).itertuples(index=False)
    )
    more = f" (+{len(changes) - 5} more)" if len(changes) > 5 else ""
    why = reason or "new units"
    if changes.empty:
        return f"analyze: themes re-fitted ({why}); no earlier share moved by more than 5 points"
    return (
        f"analyze: themes re-fitted ({why}); {len(changes)} earlier shares moved by more than 5 points: "
        f"{moved}{more} (processed/theme_changes.csv; pin_themes = true keeps the themes)"
    )
