"""The report's charts, drawn with matplotlib (Agg) and saved as PNG and SVG.

Every chart takes the analysis tables and works for one, two or many conferences. Output
is byte-identical across runs: fixed fonts (DejaVu Sans, shipped with matplotlib), no
dates in the metadata, a fixed SVG hash salt. Labels never overlap: long labels are
wrapped, and the theme labels of the slope chart are spread apart vertically.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from pipeline.analyze.themes import distinct_terms  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

FONT_SIZE = 10
SMALL = 9
STYLE: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",
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
LINE_HEIGHT_IN = FONT_SIZE * 1.3 / 72  # one line of label text, in inches
ENTITY_LABELS = {"ORG": "Organizations", "COUNTRY": "Countries", "REGION": "Regions"}


def palette(n: int) -> list:
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def conference_colors(n: int) -> list:
    """Ordered conferences get ordered colours (light = early, dark = late)."""
    cmap = plt.get_cmap("viridis")
    if n == 1:
        return [cmap(0.35)]
    return [cmap(0.15 + 0.7 * i / (n - 1)) for i in range(n)]


def wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(str(text), width=width, break_long_words=True)) or str(text)


def conference_tick(label: str, width: int = 22) -> str:
    return wrap(label, width)


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


def render(fig: Figure) -> dict[str, bytes]:
    """The figure as PNG and SVG bytes, deterministically; closes the figure."""
    out = {}
    for ext, metadata in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
        buffer = io.BytesIO()
        with plt.rc_context(STYLE):
            fig.savefig(buffer, format=ext, dpi=DPI, metadata=metadata)
        out[ext] = buffer.getvalue()
    plt.close(fig)
    return out


def _placeholder(title: str, message: str) -> Figure:
    fig = plt.figure(figsize=(8, 2.2))
    fig.text(0.5, 0.62, title, ha="center", va="center", fontsize=12, weight="bold")
    fig.text(0.5, 0.35, wrap(message, 80), ha="center", va="center", fontsize=FONT_SIZE, color="#444444")
    return fig


# --------------------------------------------------------------------------- themes


def _themes_in_order(shares: pd.DataFrame) -> pd.DataFrame:
    """Each theme once (theme, label, _n), in the order of its number."""
    themes = shares.drop_duplicates("theme")[["theme", "label"]]
    return themes.assign(_n=pd.to_numeric(themes["theme"])).sort_values("_n")


def theme_shift(shares: pd.DataFrame, conferences: pd.DataFrame) -> Figure:
    """Slope chart: each theme's share in each conference, one line per theme, labelled."""
    with plt.rc_context(STYLE):
        if shares.empty or conferences.empty:
            return _placeholder("Theme shift between conferences", "No themes were found.")
        themes = _themes_in_order(shares)
        n_conf = len(conferences)
        orders = list(conferences["conference_order"])
        table = shares.pivot_table(index="theme", columns="conference_order", values="share", aggfunc="first")
        first, last = orders[0], orders[-1]
        change = (table[last] - table[first]).fillna(0)
        labels = {t: wrap(f"{lab}", 30) for t, lab in zip(themes["theme"], themes["label"], strict=True)}
        # each right-hand label is its theme's lines plus one for the numbers; the axes are
        # made tall enough to stack all labels without overlap
        n_lines = sum(labels[t].count("\n") + 2 for t in themes["theme"])
        axes_h_in = max(3.6, n_lines * LINE_HEIGHT_IN * 1.12)
        top_in, bottom_in = 0.95, 0.85
        height = axes_h_in + top_in + bottom_in
        # fixed margins in inches; the plot widens with the number of conferences so that
        # their names (wrapped to two or three lines) fit side by side
        left_in, labels_in = 1.0, 3.9
        axes_w_in = max(5.4, 1.75 * n_conf)
        width = left_in + axes_w_in + labels_in
        fig, ax = plt.subplots(figsize=(width, height))
        top_frac, bottom_frac = 1 - top_in / height, bottom_in / height
        left_frac = left_in / width
        fig.subplots_adjust(left=left_frac, right=1 - labels_in / width, top=top_frac, bottom=bottom_frac)
        top_share = float(np.nanmax(table.to_numpy())) if table.size else 1.0
        ymax = max(0.05, top_share * 1.08)
        ax.set_ylim(0, ymax)
        ax.set_xlim(-0.45 if n_conf > 1 else -0.25, max(0.25, n_conf - 1 + 0.25))
        movers = set(change.abs().sort_values(ascending=False).index[:3]) if n_conf > 1 else set()
        colors = dict(zip(themes["theme"], palette(len(themes)), strict=True))
        for theme in themes["theme"]:
            ys = [table.loc[theme, o] if o in table.columns else np.nan for o in orders]
            strong = theme in movers or n_conf == 1
            ax.plot(
                range(n_conf), ys, marker="o", markersize=7 if strong else 5,
                linewidth=3.0 if strong else 1.6, color=colors[theme], alpha=1.0 if strong else 0.75,
                solid_capstyle="round", zorder=3 if strong else 2,
            )  # fmt: skip
        # labels at the right end, spread so they never overlap
        per_in = ymax / axes_h_in
        ends = [float(table.loc[t, last]) for t in themes["theme"]]
        texts = []
        for theme, end in zip(themes["theme"], ends, strict=True):
            delta = change.get(theme, 0.0)
            suffix = f"{end:.0%}" + (f" ({delta * 100:+.0f} pts)" if n_conf > 1 else "")
            texts.append(f"{labels[theme]}\n{suffix}")
        heights = [
            (t.count("\n") + 1) * LINE_HEIGHT_IN * per_in + 0.25 * LINE_HEIGHT_IN * per_in for t in texts
        ]
        placed = spread(ends, heights, -0.04 * ymax, 1.04 * ymax)
        x_end = n_conf - 1
        beside = matplotlib.transforms.blended_transform_factory(ax.transAxes, ax.transData)
        for theme, end, y, text in zip(themes["theme"], ends, placed, texts, strict=True):
            ax.annotate(
                text, xy=(x_end, end), xytext=(1 + 0.16 / axes_w_in, y), textcoords=beside,
                ha="left", va="center", fontsize=SMALL + 0.5, color=colors[theme], annotation_clip=False,
                arrowprops={"arrowstyle": "-", "color": colors[theme], "lw": 0.8, "shrinkA": 2, "shrinkB": 4,
                            "relpos": (0, 0.5)},
            )  # fmt: skip
        if n_conf > 1:  # the first conference's values, spread too
            starts = [float(table.loc[t, first]) for t in themes["theme"]]
            left_h = [1.25 * LINE_HEIGHT_IN * per_in] * len(starts)
            left_y = spread(starts, left_h, -0.04 * ymax, 1.04 * ymax)
            for theme, start, y in zip(themes["theme"], starts, left_y, strict=True):
                ax.annotate(
                    f"{start:.0%}", xy=(0, start), xytext=(-0.08, y), textcoords="data",
                    ha="right", va="center", fontsize=SMALL + 0.5, color=colors[theme],
                    annotation_clip=False,
                )  # fmt: skip
        ax.set_xticks(range(n_conf))
        ax.set_xticklabels([conference_tick(lab, 18) for lab in conferences["conference_label"]])
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
        ax.set_ylabel("share of the conference's units")
        ax.grid(axis="y", color="#dddddd", linewidth=0.8)
        ax.set_axisbelow(True)
        fig.suptitle(
            "Theme shift between conferences", x=left_frac, y=1 - 0.18 / height, ha="left", va="top",
            fontsize=13, weight="bold",
        )  # fmt: skip
        fig.text(
            left_frac, 1 - 0.62 / height,
            "Each line is a theme: its share of the sentences and list items of each conference "
            "(themes moving most drawn bold).",
            ha="left", fontsize=SMALL, color="#444444",
        )  # fmt: skip
        return fig


def theme_shares(shares: pd.DataFrame, conferences: pd.DataFrame) -> Figure:
    """Heat map of theme x conference: share (and number of units) in each cell."""
    with plt.rc_context(STYLE):
        if shares.empty or conferences.empty:
            return _placeholder("Theme shares per conference", "No themes were found.")
        themes = _themes_in_order(shares)
        orders = list(conferences["conference_order"])
        share = shares.pivot_table(index="theme", columns="conference_order", values="share", aggfunc="first")
        count = shares.pivot_table(
            index="theme", columns="conference_order", values="n_units", aggfunc="first"
        )
        share = share.reindex(index=list(themes["theme"]), columns=orders).fillna(0)
        count = count.reindex(index=list(themes["theme"]), columns=orders).fillna(0)
        row_labels = [
            wrap(f"{t}. {lab}", 38) for t, lab in zip(themes["theme"], themes["label"], strict=True)
        ]
        lines = sum(r.count("\n") + 1 for r in row_labels)
        height = max(3.2, 1.7 + max(lines * LINE_HEIGHT_IN * 1.25, len(row_labels) * 0.5))
        width = min(16, 4.6 + 1.5 * len(orders))
        fig, ax = plt.subplots(figsize=(width, height))
        vmax = max(0.05, float(share.to_numpy().max()))
        ax.imshow(share.to_numpy(), cmap="Blues", vmin=0, vmax=vmax * 1.15, aspect="auto")
        for i in range(share.shape[0]):
            for j in range(share.shape[1]):
                value, n = share.iat[i, j], int(count.iat[i, j])
                ax.text(
                    j, i, f"{value:.0%}\n({n} unit{'' if n == 1 else 's'})", ha="center", va="center",
                    fontsize=SMALL, color="white" if value > 0.6 * vmax else "#1a1a1a",
                )  # fmt: skip
        ax.set_xticks(range(len(orders)))
        ax.set_xticklabels([conference_tick(lab, 18) for lab in conferences["conference_label"]])
        ax.xaxis.tick_top()
        ax.set_yticks(range(len(row_labels)))
        ax.set_yticklabels(row_labels)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.tick_params(length=0)
        ax.set_title("Theme shares per conference", loc="left", fontsize=13, weight="bold", pad=48)
        fig.tight_layout()
        return fig


# --------------------------------------------------------------------------- keyness


def keyness(table: pd.DataFrame, conferences: pd.DataFrame, top: int = 10) -> Figure:
    """Per conference, the terms most distinctive of it (log-likelihood G²)."""
    with plt.rc_context(STYLE):
        if table.empty or len(conferences) < 2:
            return _placeholder(
                "Distinctive terms per conference",
                "Distinctive terms need at least two conferences to compare.",
            )
        n = len(conferences)
        cols = min(n, 3)
        rows = math.ceil(n / cols)
        fig, axes = plt.subplots(
            rows, cols, figsize=(5.0 * cols, 0.34 * top * rows + 1.4 * rows + 0.6), squeeze=False
        )
        color_sig, color_ns = "#2b6ca3", "#b9cfe3"
        for index, conf in enumerate(conferences.itertuples(index=False)):
            ax = axes[index // cols][index % cols]
            mine = table[(table["conference_order"] == conf.conference_order) & (table["statistic"] > 0)]
            mine = mine.sort_values(["statistic", "term"], ascending=[False, True], kind="stable")
            terms = distinct_terms(list(mine["term"]), top)
            rows_ = mine.set_index("term").loc[terms] if terms else mine.iloc[0:0]
            ax.set_title(wrap(conf.conference_label, 40), loc="left", fontsize=FONT_SIZE + 1, weight="bold")
            if rows_.empty:
                ax.text(
                    0.5,
                    0.5,
                    "no term is more frequent here",
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                )
                ax.set_axis_off()
                continue
            values = rows_["statistic"].to_numpy()[::-1]
            names = [wrap(t, 26) for t in rows_.index[::-1]]
            sig = rows_["significant"].astype(str).str.lower().isin(["true", "1"]).to_numpy()[::-1]
            ax.barh(range(len(values)), values, color=[color_sig if s else color_ns for s in sig], height=0.7)
            for y, (v, f) in enumerate(zip(values, rows_["freq_target"].to_numpy()[::-1], strict=True)):
                ax.text(v, y, f" {v:.1f} (n={int(f)})", va="center", fontsize=SMALL)
            ax.set_yticks(range(len(values)))
            ax.set_yticklabels(names)
            ax.set_xlim(0, values.max() * 1.45)
            ax.set_xlabel("log-likelihood G² vs. the other conferences")
            ax.grid(axis="x", color="#eeeeee")
            ax.set_axisbelow(True)
        for index in range(n, rows * cols):
            axes[index // cols][index % cols].set_axis_off()
        handles = [
            matplotlib.patches.Patch(color=color_sig, label="significant (p < 0.05)"),
            matplotlib.patches.Patch(color=color_ns, label="not significant"),
        ]
        fig.legend(handles=handles, loc="upper right", ncol=2, frameon=False)
        fig.suptitle("Distinctive terms per conference", x=0.01, ha="left", fontsize=13, weight="bold")
        fig.tight_layout(rect=(0, 0, 1, 0.93 if rows == 1 else 0.96))
        return fig


# --------------------------------------------------------------------------- entities


def entities(counts: pd.DataFrame, conferences: pd.DataFrame, top: int = 12) -> Figure:
    """Organizations, countries and regions named per conference (mentions per cell)."""
    with plt.rc_context(STYLE):
        if counts.empty:
            return _placeholder(
                "Organizations, countries and regions per conference",
                "No entities table: run the extract stage to count the organizations, countries "
                "and regions the memos name.",
            )
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
        heights = [max(1.2, 0.36 * len(t) + 0.3) for _, t, _ in panels]
        width = min(16, 6.6 + 1.25 * len(orders))
        fig, axes = plt.subplots(
            len(panels), 1, figsize=(width, sum(heights) + 1.3 + 0.45 * len(panels)),
            gridspec_kw={"height_ratios": heights}, squeeze=False,
        )  # fmt: skip
        for (label, table, total), ax in zip(panels, axes[:, 0], strict=True):
            values = table.to_numpy()
            vmax = max(1.0, values.max())
            ax.imshow(values, cmap="Oranges", vmin=0, vmax=vmax * 1.2, aspect="auto")
            for i in range(values.shape[0]):
                for j in range(values.shape[1]):
                    v = int(values[i, j])
                    ax.text(j, i, str(v) if v else "–", ha="center", va="center", fontsize=SMALL,
                            color="white" if v > 0.65 * vmax else "#1a1a1a")  # fmt: skip
            ax.set_yticks(range(len(table)))
            ax.set_yticklabels([wrap(name, 48) for name in table.index])
            ax.set_xticks(range(len(orders)))
            ax.set_xticklabels([])
            ax.tick_params(length=0)
            for spine in ax.spines.values():
                spine.set_visible(False)
            more = f" — top {len(table)} of {total}" if total > len(table) else ""
            ax.set_title(
                f"{ENTITY_LABELS.get(label, label.title())}{more}",
                loc="left",
                fontsize=FONT_SIZE + 1,
                weight="bold",
            )
        top_ax = axes[0, 0]
        top_ax.xaxis.tick_top()
        top_ax.set_xticklabels([conference_tick(lab, 18) for lab in conferences["conference_label"]])
        top_ax.set_title(
            top_ax.get_title(loc="left"), loc="left", fontsize=FONT_SIZE + 1, weight="bold", pad=40
        )
        fig.suptitle(
            "Organizations, countries and regions named (mentions)",
            x=0.01,
            ha="left",
            fontsize=13,
            weight="bold",
        )
        fig.tight_layout(rect=(0, 0, 1, 0.97))
        return fig


# --------------------------------------------------------------------------- recommendations


def recommendations_by_actor(recs: pd.DataFrame, conferences: pd.DataFrame) -> Figure:
    """How many recommendations each actor is asked to carry out, per conference."""
    with plt.rc_context(STYLE):
        if recs.empty or "actor" not in recs.columns:
            return _placeholder(
                "Recommendations by actor per conference",
                "No recommendations table: run the extract stage to find the recommendations.",
            )
        recs = recs.assign(actor=recs["actor"].replace("", "unspecified"))
        orders = list(conferences["conference_order"])
        table = recs.pivot_table(index="actor", columns="conference_order", values="unit_id", aggfunc="count")
        table = table.reindex(columns=orders).fillna(0)
        actors = sorted(table.index, key=lambda a: (-table.loc[a].sum(), a))
        table = table.loc[actors]
        n_conf = len(orders)
        bar = 0.8 / n_conf
        height = max(3.2, 1.6 + len(actors) * (0.28 * n_conf + 0.25))
        fig, ax = plt.subplots(figsize=(10, height))
        colors = conference_colors(n_conf)
        for j, (order, label) in enumerate(zip(orders, conferences["conference_label"], strict=True)):
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
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_xlabel("recommendations")
        ax.grid(axis="x", color="#eeeeee")
        ax.set_axisbelow(True)
        ax.legend(loc="lower right", frameon=False, title="conference")
        ax.set_title("Recommendations by actor per conference", loc="left", fontsize=13, weight="bold")
        fig.tight_layout()
        return fig
