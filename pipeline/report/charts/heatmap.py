"""A grid of numbered cells (rows x conferences), shared by the theme-share, entity and
actor charts: cell text dark on light and light on dark, conferences with few units hatched."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from pipeline.report.charts.style import MANY, SMALL

CELL_IN = 0.62  # width of one conference column when there are many


def column_width_in(n_conferences: int) -> float:
    """Wide columns for a few conferences (names fit), narrow ones for many (years fit)."""
    return 1.35 if n_conferences <= MANY else CELL_IN


def draw_cells(
    ax: Axes,
    values: np.ndarray,
    texts: Sequence[Sequence[str]],
    cmap: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    hatched: Sequence[bool] | np.ndarray = (),
) -> None:
    """Coloured cells with their text; ``hatched`` columns get a grey diagonal hatch."""
    vmax = max(1e-9, float(np.nanmax(values))) if values.size else 1.0
    ax.imshow(values, cmap=cmap, vmin=0, vmax=vmax * 1.15, aspect="auto")
    size = SMALL - (0.5 if len(column_labels) > MANY else 0)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            ax.text(
                j, i, texts[i][j], ha="center", va="center", fontsize=size,
                color="white" if values[i, j] > 0.6 * vmax else "#1a1a1a",
            )  # fmt: skip
    for j, flag in enumerate(hatched):
        if flag:
            ax.add_patch(
                Rectangle(
                    (j - 0.5, -0.5),
                    1,
                    values.shape[0],
                    fill=False,
                    hatch="///",
                    edgecolor="#9a9a9a",
                    linewidth=0,
                )  # fmt: skip
            )
    ax.set_xticks(range(values.shape[1]))
    ax.set_xticklabels(column_labels, rotation=90 if len(column_labels) > 12 else 0)
    ax.xaxis.tick_top()
    ax.set_yticks(range(values.shape[0]))
    ax.set_yticklabels(row_labels)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(length=0)
