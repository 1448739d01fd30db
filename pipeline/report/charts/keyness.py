"""Per conference, the terms most distinctive of it: bars sorted by log-likelihood G², one
x scale across all panels so that panels compare."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from pipeline.report.charts.style import (
    FONT_SIZE,
    MANY,
    MAX_WIDTH_IN,
    SMALL,
    TITLE,
    drawing,
    placeholder,
    wrap,
)  # fmt: skip
from pipeline.report.data import significant, top_keyness_terms

TITLE_TEXT = "Distinctive terms per conference"
SIGNIFICANT, NOT_SIGNIFICANT = "#2b6ca3", "#b9cfe3"


def keyness(table: pd.DataFrame, conferences: pd.DataFrame, top: int = 10) -> Figure:
    """One panel per conference; dark bars are significant after the false-discovery correction."""
    if table.empty or len(conferences) < 2:
        return placeholder(TITLE_TEXT, "Distinctive terms need at least two conferences to compare.")
    with drawing():
        n = len(conferences)
        top = top if n <= MANY else 8
        cols = min(n, 3)
        rows = math.ceil(n / cols)
        chosen = [top_keyness_terms(table, order, top) for order in conferences["conference_order"]]
        xmax = max([float(c["statistic"].max()) for c in chosen if not c.empty] or [1.0])
        longest = max([len(c) for c in chosen] or [1])
        fig, axes = plt.subplots(
            rows, cols, figsize=(min(MAX_WIDTH_IN, 4.2 * cols), (0.3 * max(longest, 3) + 0.9) * rows + 1.0),
            squeeze=False, layout="constrained",
        )  # fmt: skip
        for index, (conf, rows_) in enumerate(zip(conferences.itertuples(index=False), chosen, strict=True)):
            ax = axes[index // cols][index % cols]
            ax.set_title(wrap(conf.conference_label, 28), loc="left", fontsize=FONT_SIZE, weight="bold")
            ax.set_xlim(0, xmax * 1.5)
            if rows_.empty:
                ax.text(0.5, 0.5, "no term is more frequent here", ha="center", va="center",
                        transform=ax.transAxes, fontsize=SMALL)  # fmt: skip
                ax.set_yticks([])
                continue
            values = rows_["statistic"].to_numpy()[::-1]
            flags = [significant(v) for v in rows_["significant"].to_numpy()[::-1]]
            ax.barh(range(len(values)), values, height=0.7,
                    color=[SIGNIFICANT if s else NOT_SIGNIFICANT for s in flags])  # fmt: skip
            for y, (v, f) in enumerate(zip(values, rows_["freq_target"].to_numpy()[::-1], strict=True)):
                ax.text(v, y, f" {v:.1f} (n={int(f)})", va="center", fontsize=SMALL - 0.5)
            ax.set_yticks(range(len(values)))
            ax.set_yticklabels([wrap(t, 24, max_lines=2) for t in rows_["term"].to_numpy()[::-1]])
            ax.set_ylim(-0.6, max(longest, 3) - 0.4)
            ax.grid(axis="x", color="#eeeeee")
            ax.set_axisbelow(True)
        for index in range(n, rows * cols):
            axes[index // cols][index % cols].set_axis_off()
        fig.suptitle(TITLE_TEXT, x=0.01, ha="left", fontsize=TITLE, weight="bold")
        fig.supxlabel(
            "log-likelihood G² against the other conferences (one scale for all panels)", fontsize=FONT_SIZE
        )
        fig.legend(
            handles=[Patch(color=SIGNIFICANT, label="significant (Benjamini–Hochberg q < 0.05)"),
                     Patch(color=NOT_SIGNIFICANT, label="not significant")],
            loc="outside upper right", ncol=2, frameon=False,
        )  # fmt: skip
        return fig
