"""How each theme's share moves from conference to conference.

Two or three conferences: a slope chart, one labelled line per theme. More: small
multiples, one panel per theme on a shared scale, so 20 conferences stay readable. The
change printed beside each theme is the one the report's text states last: from the
second-to-last conference to the last, in whole points. A conference with fewer than
``FEW_UNITS`` units is marked "*" and its shares carry a 95% Wilson interval.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter
from matplotlib.transforms import blended_transform_factory

from pipeline.report.charts.style import (
    FEW_UNITS,
    LINE_HEIGHT_IN,
    MAX_WIDTH_IN,
    SMALL,
    TITLE,
    conference_key,
    conference_ticks,
    drawing,
    few_units_note,
    palette,
    placeholder,
    short_labels,
    spread,
    wrap,
)  # fmt: skip
from pipeline.report.data import signed_points, wilson

TITLE_TEXT = "Theme shift between conferences"
SLOPE_MAX = 3


def themes_in_order(shares: pd.DataFrame) -> pd.DataFrame:
    """Each theme once (theme, label), in the order of its number."""
    themes = shares.drop_duplicates("theme")[["theme", "label"]]
    order = pd.to_numeric(themes["theme"], errors="coerce")
    return themes.assign(_n=order).sort_values(["_n", "theme"]).drop(columns="_n")


class Grid:
    """Shares, unit counts and intervals as theme x conference arrays."""

    def __init__(self, shares: pd.DataFrame, conferences: pd.DataFrame) -> None:
        self.themes = themes_in_order(shares)
        ids, orders = list(self.themes["theme"]), list(conferences["conference_order"])

        def pivot(column: str) -> np.ndarray:
            wide = shares.pivot_table(
                index="theme", columns="conference_order", values=column, aggfunc="first"
            )
            return wide.reindex(index=ids, columns=orders).to_numpy(dtype=float)

        self.share = pivot("share")
        self.n_units = np.nan_to_num(pivot("n_units"))
        sizes = shares.drop_duplicates("conference_order").set_index("conference_order")["n_conference_units"]
        self.sizes = np.array([float(sizes.get(o, 0)) for o in orders])
        self.small = self.sizes < FEW_UNITS
        low_high = [[wilson(k, n) for k, n in zip(row, self.sizes, strict=True)] for row in self.n_units]
        self.low = np.array([[lo for lo, _ in row] for row in low_high])
        self.high = np.array([[hi for _, hi in row] for row in low_high])


def _last_change(grid: Grid, i: int) -> str:
    if grid.share.shape[1] < 2:
        return ""
    return signed_points(np.nan_to_num(grid.share[i, -1]) - np.nan_to_num(grid.share[i, -2]))


def theme_shift(shares: pd.DataFrame, conferences: pd.DataFrame) -> Figure:
    """Each theme's share in each conference: a slope chart or small multiples."""
    if shares.empty or conferences.empty:
        return placeholder(TITLE_TEXT, "No themes were found.")
    if len(conferences) <= SLOPE_MAX:
        return _slope(shares, conferences)
    return _panels(shares, conferences)


def _interval_bars(ax, xs, grid: Grid, i: int, color, offset: float = 0.0) -> None:
    """The 95% interval of each share of a conference with few units: a thin vertical line,
    set ``offset`` beside the point so that the lines of several themes stay apart."""
    for j, x in enumerate(xs):
        if grid.small[j]:
            span = [grid.low[i, j], grid.high[i, j]]
            ax.plot([x + offset] * 2, span, color=color, linewidth=1.2, alpha=0.7, zorder=1)


def _slope(shares: pd.DataFrame, conferences: pd.DataFrame) -> Figure:
    """One line per theme, its label and end value at the right, spread apart."""
    with drawing():
        grid = Grid(shares, conferences)
        themes = grid.themes
        n_conf = len(conferences)
        labels = [wrap(lab, 30) for lab in themes["label"]]
        texts = []
        for i, label in enumerate(labels):
            end = np.nan_to_num(grid.share[i, -1])
            change = _last_change(grid, i)
            texts.append(f"{label}\n{end:.0%}" + (f" ({change})" if change else ""))
        n_lines = sum(t.count("\n") + 1 for t in texts)
        axes_h_in = max(3.6, n_lines * LINE_HEIGHT_IN * 1.12)
        top_in, bottom_in = 1.05, 1.15
        height = axes_h_in + top_in + bottom_in
        left_in, labels_in = 1.0, 3.9
        axes_w_in = min(MAX_WIDTH_IN - left_in - labels_in, max(5.0, 1.75 * n_conf))
        width = left_in + axes_w_in + labels_in
        fig, ax = plt.subplots(figsize=(width, height))
        left_frac = left_in / width
        fig.subplots_adjust(
            left=left_frac, right=1 - labels_in / width, top=1 - top_in / height, bottom=bottom_in / height
        )
        ceiling = np.nanmax(np.where(grid.small, grid.high, grid.share)) if grid.share.size else 1.0
        ymax = max(0.05, float(ceiling) * 1.08)
        ax.set_ylim(0, ymax)
        ax.set_xlim(-0.45 if n_conf > 1 else -0.25, max(0.25, n_conf - 1 + 0.25))
        changes = np.abs(np.nan_to_num(grid.share[:, -1] - grid.share[:, -2])) if n_conf > 1 else np.zeros(0)
        movers = set(np.argsort(-changes, kind="stable")[:3]) if n_conf > 1 else set()
        colors = palette(len(themes))
        xs = list(range(n_conf))
        for i in range(len(themes)):
            strong = i in movers or n_conf == 1
            ax.plot(
                xs, grid.share[i], marker="o", markersize=7 if strong else 5,
                linewidth=3.0 if strong else 1.6, color=colors[i], alpha=1.0 if strong else 0.75,
                solid_capstyle="round", zorder=3 if strong else 2,
            )  # fmt: skip
            _interval_bars(ax, xs, grid, i, colors[i], offset=0.035 * (i - (len(themes) - 1) / 2))
        per_in = ymax / axes_h_in
        ends = [float(np.nan_to_num(v)) for v in grid.share[:, -1]]
        heights = [(t.count("\n") + 1.25) * LINE_HEIGHT_IN * per_in for t in texts]
        placed = spread(ends, heights, -0.04 * ymax, 1.04 * ymax)
        beside = blended_transform_factory(ax.transAxes, ax.transData)
        for i, (end, y, text) in enumerate(zip(ends, placed, texts, strict=True)):
            ax.annotate(
                text, xy=(n_conf - 1, end), xytext=(1 + 0.16 / axes_w_in, y), textcoords=beside,
                ha="left", va="center", fontsize=SMALL + 0.5, color=colors[i], annotation_clip=False,
                arrowprops={"arrowstyle": "-", "color": colors[i], "lw": 0.8, "shrinkA": 2, "shrinkB": 4,
                            "relpos": (0, 0.5)},
            )  # fmt: skip
        if n_conf > 1:  # the first conference's values, spread too
            starts = [float(np.nan_to_num(v)) for v in grid.share[:, 0]]
            left_y = spread(starts, [1.25 * LINE_HEIGHT_IN * per_in] * len(starts), -0.04 * ymax, 1.04 * ymax)
            for i, (start, y) in enumerate(zip(starts, left_y, strict=True)):
                ax.annotate(
                    f"{start:.0%}", xy=(0, start), xytext=(-0.08, y), textcoords="data",
                    ha="right", va="center", fontsize=SMALL + 0.5, color=colors[i], annotation_clip=False,
                )  # fmt: skip
        ticks = conference_ticks(conferences, grid.small)
        sizes = [f"{t}\n({int(n)} units)" for t, n in zip(ticks, grid.sizes, strict=True)]
        ax.set_xticks(xs)
        ax.set_xticklabels(sizes)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylabel("share of the conference's units")
        ax.grid(axis="y", color="#dddddd", linewidth=0.8)
        ax.set_axisbelow(True)
        fig.suptitle(TITLE_TEXT, x=left_frac, y=1 - 0.18 / height, ha="left", va="top", fontsize=TITLE,
                     weight="bold")  # fmt: skip
        since = (
            f" Beside each theme: its share in the last conference and the change since "
            f"{wrap(conferences['conference_label'].iloc[-2], 200)}."
            if n_conf > 1 else ""
        )  # fmt: skip
        subtitle = (
            "Each line is a theme: its share of the sentences and list items of each conference." + since
        )
        fig.text(left_frac, 1 - 0.55 / height, wrap(subtitle, int(width * 13)), ha="left", va="top",
                 fontsize=SMALL, color="#444444")  # fmt: skip
        note = few_units_note(int(grid.small.sum()))
        if note:
            fig.text(left_frac, 0.12 / height, note, ha="left", va="bottom", fontsize=SMALL, color="#444444")
        return fig


def _panels(shares: pd.DataFrame, conferences: pd.DataFrame) -> Figure:
    """Small multiples: one panel per theme, conferences along x, one y scale for all."""
    with drawing():
        grid = Grid(shares, conferences)
        themes = grid.themes
        n_conf, n_themes = len(conferences), len(themes)
        cols = 3 if n_themes > 4 else 2
        rows = math.ceil(n_themes / cols)
        width = MAX_WIDTH_IN if cols == 3 else 9.0
        fig, axes = plt.subplots(
            rows, cols, figsize=(width, 2.75 * rows + 1.6), sharey=True, squeeze=False, layout="constrained"
        )
        ceiling = float(np.nanmax(np.where(grid.small, grid.high, grid.share)))
        ticks = conference_ticks(conferences, grid.small, room=0)
        xs = np.arange(n_conf)
        short = short_labels(conferences)
        colors = palette(n_themes)
        for i in range(n_themes):
            ax = axes[i // cols][i % cols]
            _interval_bars(ax, xs, grid, i, colors[i])
            ax.plot(xs, grid.share[i], color=colors[i], linewidth=2.0, zorder=2)
            ax.scatter(xs[~grid.small], grid.share[i][~grid.small], color=colors[i], s=18, zorder=3)
            hollow = {"facecolor": "white", "edgecolor": colors[i], "s": 18, "zorder": 3}
            ax.scatter(xs[grid.small], grid.share[i][grid.small], **hollow)
            end = np.nan_to_num(grid.share[i, -1])
            change = _last_change(grid, i)
            ax.set_title(
                f"{wrap(themes['label'].iloc[i], 38)}\n{end:.0%} in {short[-1]} ({change} since {short[-2]})",
                loc="left", fontsize=SMALL + 0.5, color="#1a1a1a",
            )  # fmt: skip
            ax.set_ylim(0, max(0.05, ceiling * 1.05))
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax.set_xticks(xs)
            ax.set_xticklabels(ticks, rotation=90 if n_conf > 8 else 0, fontsize=SMALL)
            ax.grid(axis="y", color="#e6e6e6", linewidth=0.8)
            ax.set_axisbelow(True)
        for index in range(n_themes, rows * cols):
            axes[index // cols][index % cols].set_axis_off()
        fig.suptitle(TITLE_TEXT, x=0.01, ha="left", fontsize=TITLE, weight="bold")
        notes = (
            "Each panel is a theme: its share of the sentences and list items of each conference "
            "(one scale for all panels).",
            few_units_note(int(grid.small.sum())),
            conference_key(conferences, room=0),
        )
        footer = " ".join(p for p in notes if p)
        if footer:
            fig.supxlabel(wrap(footer, int(width * 14)), x=0.01, ha="left", fontsize=SMALL, color="#444444")
        return fig
