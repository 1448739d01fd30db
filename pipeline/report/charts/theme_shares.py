"""Theme x conference heat map: each cell's share and number of units."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from pipeline.report.charts.heatmap import column_width_in, draw_cells
from pipeline.report.charts.style import (
    LINE_HEIGHT_IN,
    MANY,
    MAX_WIDTH_IN,
    SMALL,
    TITLE,
    conference_key,
    conference_ticks,
    drawing,
    few_units_note,
    placeholder,
    wrap,
)  # fmt: skip
from pipeline.report.charts.theme_shift import Grid

TITLE_TEXT = "Theme shares per conference"


def theme_shares(shares: pd.DataFrame, conferences: pd.DataFrame) -> Figure:
    """Share (and units) of each theme in each conference; conferences with few units hatched,
    their cells showing the 95% Wilson interval."""
    if shares.empty or conferences.empty:
        return placeholder(TITLE_TEXT, "No themes were found.")
    with drawing():
        grid = Grid(shares, conferences)
        n_conf = len(conferences)
        share = np.nan_to_num(grid.share)
        texts = []
        for i in range(share.shape[0]):
            row = []
            for j in range(n_conf):
                n = int(grid.n_units[i, j])
                if n_conf > MANY:
                    row.append(f"{share[i, j]:.0%}\n{n}")
                elif grid.small[j]:
                    row.append(f"{share[i, j]:.0%} ({n})\n{grid.low[i, j]:.0%}–{grid.high[i, j]:.0%}")
                else:
                    row.append(f"{share[i, j]:.0%}\n({n} unit{'' if n == 1 else 's'})")
            texts.append(row)
        row_labels = [
            wrap(f"{t}. {lab}", 34) for t, lab in zip(grid.themes["theme"], grid.themes["label"], strict=True)
        ]
        lines = sum(r.count("\n") + 1 for r in row_labels)
        height = max(3.2, 2.0 + max(lines * LINE_HEIGHT_IN * 1.25, len(row_labels) * 0.52))
        width = min(MAX_WIDTH_IN, 3.6 + column_width_in(n_conf) * n_conf)
        fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
        ticks = conference_ticks(conferences, grid.small)
        draw_cells(ax, share, texts, "Blues", row_labels, ticks, grid.small)
        ax.set_title(TITLE_TEXT, loc="left", fontsize=TITLE, weight="bold")
        unit_note = "Cells: the theme's share of the conference's units, and how many units"
        footer = " ".join(
            p for p in (unit_note + ".", few_units_note(int(grid.small.sum()), "hatched; cells give"),
                        conference_key(conferences)) if p
        )  # fmt: skip
        fig.supxlabel(wrap(footer, int(width * 14)), x=0.01, ha="left", fontsize=SMALL, color="#444444")
        return fig
