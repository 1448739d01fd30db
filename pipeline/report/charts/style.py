"""What every chart shares: the style, conference labels, label placement, quiet and
deterministic rendering.

Output is byte-identical across runs: fixed fonts (DejaVu Sans, shipped with matplotlib),
no dates in the metadata, a fixed SVG hash salt. Characters DejaVu Sans has no glyph for
are shown as "□" (visibly replaced, never silently dropped), and matplotlib's layout and
missing-glyph warnings never reach the terminal.
"""

from __future__ import annotations

import contextlib
import io
import textwrap
import warnings
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from pipeline.report.data import FEW_UNITS, short_labels  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

FONT = "DejaVu Sans"
FONT_SIZE = 10
SMALL = 9
TITLE = 13
STYLE: dict[RcKeyType, Any] = {
    "font.family": FONT,
    "font.size": FONT_SIZE,
    "axes.titlesize": 12,
    "axes.labelsize": FONT_SIZE,
    "xtick.labelsize": SMALL + 0.5,
    "ytick.labelsize": SMALL + 0.5,
    "legend.fontsize": SMALL + 0.5,
    "svg.hashsalt": "memo-pipeline",
    "svg.fonttype": "path",
    "path.simplify": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
DPI = 150
# the report shows charts at most 1100 px wide: wider figures would shrink their text
MAX_WIDTH_IN = 12.0
LINE_HEIGHT_IN = FONT_SIZE * 1.3 / 72  # one line of label text, in inches
MANY = 5  # above this many conferences, ticks show short labels (years) instead of names
MISSING = "□"


@lru_cache(maxsize=1)
def _glyphs() -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    path = font_manager.findfont(font_manager.FontProperties(family=FONT), fallback_to_default=True)
    return frozenset(FT2Font(path).get_charmap())


def printable(text: object) -> str:
    """The text with every character the chart font cannot draw replaced by "□"."""
    glyphs = _glyphs()
    return "".join(c if ord(c) in glyphs or c in "\n\t " else MISSING for c in str(text))


def wrap(text: object, width: int, max_lines: int | None = None) -> str:
    """Lines of at most ``width`` characters; beyond ``max_lines`` the rest becomes "…"."""
    text = printable(text)
    lines = textwrap.wrap(text, width=width, break_long_words=True)
    if max_lines and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return "\n".join(lines) or text


@contextlib.contextmanager
def drawing() -> Iterator[None]:
    """The house style, with matplotlib's layout and glyph warnings kept off the terminal."""
    with warnings.catch_warnings(), plt.rc_context(STYLE):
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        warnings.filterwarnings("ignore", message=r".*(tight_layout|constrained_layout|[Tt]ight layout)")
        yield


def compact(conferences: pd.DataFrame, room: int = MANY) -> bool:
    """Whether ticks must show short labels: more conferences than names fit side by side."""
    return len(conferences) > room


def conference_ticks(
    conferences: pd.DataFrame, small: Sequence[bool] | np.ndarray = (), width: int = 18, room: int = MANY
) -> list[str]:
    """Tick labels: full names when ``room`` allows, short ones beyond; a conference with
    too few units is marked "*"."""
    if compact(conferences, room):
        names = short_labels(conferences)
    else:
        names = [wrap(c, width) for c in conferences["conference_label"]]
    flags = list(small) or [False] * len(names)
    return [f"{name}*" if flag else name for name, flag in zip(names, flags, strict=True)]


def conference_key(conferences: pd.DataFrame, room: int = MANY) -> str:
    """With short tick labels, which conference each stands for."""
    if not compact(conferences, room):
        return ""
    pairs = zip(short_labels(conferences), conferences["conference_label"], strict=True)
    names = [(short, str(name).removesuffix(f" ({short})")) for short, name in pairs]
    return "; ".join(f"{short}: {printable(name)}" for short, name in names if short != name)


def few_units_note(n_flagged: int, interval: str = "thin vertical lines show") -> str:
    """The footnote for conferences marked "*" (none when no conference is)."""
    if not n_flagged:
        return ""
    return f"* fewer than {FEW_UNITS} units: shares uncertain ({interval} the 95% Wilson interval)."


def palette(n: int) -> list:
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def conference_colors(n: int) -> list:
    """Ordered conferences get ordered colours (light = early, dark = late)."""
    cmap = plt.get_cmap("viridis")
    if n == 1:
        return [cmap(0.35)]
    return [cmap(0.15 + 0.7 * i / (n - 1)) for i in range(n)]


def spread(desired: Sequence[float], heights: Sequence[float], low: float, high: float) -> list[float]:
    """Centres for labels of the given heights, as close as possible to ``desired`` but
    never overlapping, kept within [low, high] where room allows (data units)."""
    n = len(desired)
    if not n:
        return []
    order = sorted(range(n), key=lambda i: (desired[i], i))
    pos = [float(desired[i]) for i in order]
    hts = [float(heights[i]) for i in order]
    for _ in range(50):
        moved = False
        # push up from the bottom, then down from the top
        pos[0] = max(pos[0], low + hts[0] / 2)
        for i in range(1, n):
            need = pos[i - 1] + (hts[i - 1] + hts[i]) / 2
            if pos[i] < need - 1e-12:
                pos[i], moved = need, True
        if pos[-1] > high - hts[-1] / 2:
            pos[-1] = high - hts[-1] / 2
            moved = True
        for i in range(n - 2, -1, -1):
            need = pos[i + 1] - (hts[i] + hts[i + 1]) / 2
            if pos[i] > need + 1e-12:
                pos[i], moved = need, True
        if not moved:
            break
    out = [0.0] * n
    for rank, i in enumerate(order):
        out[i] = pos[rank]
    return out


def placeholder(title: str, message: str) -> Figure:
    with drawing():
        fig = plt.figure(figsize=(8, 2.2))
        fig.text(0.5, 0.62, title, ha="center", va="center", fontsize=12, weight="bold")
        fig.text(0.5, 0.35, wrap(message, 80), ha="center", va="center", fontsize=FONT_SIZE, color="#444444")
    return fig


def heading(fig: Figure, title: str, subtitle: str = "") -> None:
    """Title (and a grey line under it) at the top left of a constrained-layout figure."""
    text = title if not subtitle else f"{title}\n"
    fig.suptitle(text, x=0.01, ha="left", fontsize=TITLE, weight="bold")
    if subtitle:
        fig.supxlabel(subtitle, x=0.01, ha="left", fontsize=SMALL, color="#444444")


def render(fig: Figure) -> dict[str, bytes]:
    """The figure as PNG and SVG bytes, deterministically; closes the figure."""
    out = {}
    with drawing():
        for ext, metadata in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
            buffer = io.BytesIO()
            fig.savefig(buffer, format=ext, dpi=DPI, metadata=metadata)
            out[ext] = buffer.getvalue()
    plt.close(fig)
    return out
