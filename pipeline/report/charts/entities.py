"""Organizations, countries and regions named per conference: mentions in each cell."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from pipeline.report.charts.heatmap import column_width_in, draw_cells
from pipeline.report.charts.style import (
    FONT_SIZE,
    MAX_WIDTH_IN,
    SMALL,
    TITLE,
    conference_key,
    conference_ticks,
    drawing,
    placeholder,
    wrap,
)  # fmt: skip

TITLE_TEXT = "Organizations, countries and regions named (mentions)"
ENTITY_LABELS = {"ORG": "Organizations", "COUNTRY": "Countries", "REGION": "Regions"}


def entities(counts: pd.DataFrame, conferences: pd.DataFrame, top: int = 12) -> Figure:
    """The most named entities of each kind, mentions per conference."""
    if counts.empty:
        return placeholder(
            TITLE_TEXT,
            "No entities table: run the extract stage to count the organizations, countries "
            "and regions the memos name.",
        )
    with drawing():
        labels = [lab for lab in ENTITY_LABELS if lab in set(counts["label"])]
        labels += sorted(set(counts["label"]) - set(labels))
        orders = list(conferences["conference_order"])
        panels = []
        for label in labels:
            mine = counts[counts["label"] == label]
            table = mine.pivot_table(
                index="canonical", columns="conference_order", values="n_mentions", aggfunc="sum"
            )
            table = table.reindex(columns=orders).fillna(0)
            totals = table.sum(axis=1)
            keep = sorted(table.index, key=lambda name: (-totals[name], name))[:top]
            panels.append((label, table.loc[keep], len(table)))
        heights = [max(1.2, 0.36 * len(t) + 0.5) for _, t, _ in panels]
        width = min(MAX_WIDTH_IN, 4.4 + column_width_in(len(orders)) * len(orders))
        fig, axes = plt.subplots(
            len(panels), 1, figsize=(width, sum(heights) + 1.6 + 0.5 * len(panels)),
            gridspec_kw={"height_ratios": heights}, squeeze=False, layout="constrained",
        )  # fmt: skip
        ticks = conference_ticks(conferences)
        for index, ((label, table, total), ax) in enumerate(zip(panels, axes[:, 0], strict=True)):
            values = table.to_numpy()
            texts = [[str(int(v)) if v else "–" for v in row] for row in values]
            draw_cells(ax, values, texts, "Oranges", [wrap(n, 40) for n in table.index],
                       ticks if index == 0 else [""] * len(orders))  # fmt: skip
            more = f" — top {len(table)} of {total}" if total > len(table) else ""
            ax.set_title(f"{ENTITY_LABELS.get(label, label.title())}{more}", loc="left",
                         fontsize=FONT_SIZE + 1, weight="bold")  # fmt: skip
        fig.suptitle(TITLE_TEXT, x=0.01, ha="left", fontsize=TITLE, weight="bold")
        key = conference_key(conferences)
        if key:
            fig.supxlabel(wrap(key, int(width * 14)), x=0.01, ha="left", fontsize=SMALL, color="#444444")
        return fig
