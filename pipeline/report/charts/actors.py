"""How many recommendations each actor is asked to carry out, per conference."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from pipeline.report.charts.heatmap import column_width_in, draw_cells
from pipeline.report.charts.style import (
    MAX_WIDTH_IN,
    SMALL,
    TITLE,
    conference_colors,
    conference_key,
    conference_ticks,
    drawing,
    placeholder,
    wrap,
)  # fmt: skip

TITLE_TEXT = "Recommendations by actor per conference"
GROUPED_MAX = 4  # beyond this many conferences, grouped bars become a grid of counts


def actor_table(recs: pd.DataFrame, conferences: pd.DataFrame) -> pd.DataFrame:
    """Actor x conference_order counts, the most asked actor first ("" = unspecified)."""
    recs = recs.assign(actor=recs["actor"].replace("", "unspecified"))
    table = recs.pivot_table(index="actor", columns="conference_order", values="unit_id", aggfunc="count")
    table = table.reindex(columns=list(conferences["conference_order"])).fillna(0)
    return table.loc[sorted(table.index, key=lambda a: (-table.loc[a].sum(), a))]


def recommendations_by_actor(recs: pd.DataFrame, conferences: pd.DataFrame) -> Figure:
    """Grouped bars for a few conferences, a grid of counts for many."""
    if recs.empty or "actor" not in recs.columns:
        return placeholder(
            TITLE_TEXT, "No recommendations table: run the extract stage to find the recommendations."
        )
    with drawing():
        table = actor_table(recs, conferences)
        if len(conferences) > GROUPED_MAX:
            return _grid(table, conferences)
        return _bars(table, conferences)


def _grid(table: pd.DataFrame, conferences: pd.DataFrame) -> Figure:
    n_conf = len(conferences)
    width = min(MAX_WIDTH_IN, 3.4 + column_width_in(n_conf) * n_conf)
    fig, ax = plt.subplots(figsize=(width, 1.9 + 0.4 * len(table)), layout="constrained")
    values = table.to_numpy()
    texts = [[str(int(v)) if v else "–" for v in row] for row in values]
    draw_cells(ax, values, texts, "Greens", [wrap(a, 28) for a in table.index], conference_ticks(conferences))
    ax.set_title(TITLE_TEXT, loc="left", fontsize=TITLE, weight="bold")
    key = conference_key(conferences)
    if key:
        fig.supxlabel(wrap(key, int(width * 14)), x=0.01, ha="left", fontsize=SMALL, color="#444444")
    return fig


def _bars(table: pd.DataFrame, conferences: pd.DataFrame) -> Figure:
    n_conf = len(conferences)
    actors = list(table.index)
    bar = 0.8 / n_conf
    height = max(3.2, 1.4 + len(actors) * (0.22 * n_conf + 0.2))
    fig, ax = plt.subplots(figsize=(10, height), layout="constrained")
    colors = conference_colors(n_conf)
    for j, (order, label) in enumerate(
        zip(conferences["conference_order"], conferences["conference_label"], strict=True)
    ):
        ys = np.arange(len(actors)) + (j - (n_conf - 1) / 2) * bar
        values = table[order].to_numpy()
        ax.barh(ys, values, height=bar * 0.92, color=colors[j], label=wrap(label, 40))
        for y, v in zip(ys, values, strict=True):
            if v:
                ax.text(v, y, f" {int(v)}", va="center", fontsize=SMALL)
    ax.set_yticks(range(len(actors)))
    ax.set_yticklabels([wrap(a, 26) for a in actors])
    ax.invert_yaxis()
    ax.set_xlim(0, max(1, table.to_numpy().max()) * 1.15)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("recommendations")
    ax.grid(axis="x", color="#eeeeee")
    ax.set_axisbelow(True)
    ax.legend(loc="lower right", frameon=False, title="conference")
    ax.set_title(TITLE_TEXT, loc="left", fontsize=TITLE, weight="bold")
    return fig
