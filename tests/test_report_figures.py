"""Each chart on its own, with 1 to 20 conferences: drawn, labelled, labels apart, deltas as
the text states them, small conferences flagged, no warnings, same bytes."""

from __future__ import annotations

import itertools
import warnings

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.text import Text

from pipeline.report import figures
from pipeline.report.charts import style
from pipeline.report.data import points, shift_steps, signed_points


def shares_for(n_conferences: int, n_themes: int = 8, units: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Shares that crowd together (several themes at nearly the same value)."""
    rows = []
    for c in range(n_conferences):
        raw = [1 + ((t * 7 + c * 3) % 5) * 0.1 for t in range(n_themes)]
        total = sum(raw)
        for t in range(n_themes):
            rows.append(
                {
                    "theme": str(t + 1),
                    "label": f"theme number {t + 1} · regional coordinators · dual benefit model",
                    "year": str(2000 + c),
                    "conference": f"{40 + c}th UN Issues Conference",
                    "conference_label": f"{40 + c}th UN Issues Conference ({2000 + c})",
                    "conference_order": c,
                    "share": raw[t] / total,
                    "n_units": round(raw[t] / total * units),
                    "n_conference_units": units,
                }
            )
    shares = pd.DataFrame(rows)
    confs = shares.drop_duplicates("conference_order")[
        ["conference", "year", "conference_label", "conference_order"]
    ].reset_index(drop=True)
    return shares, confs


def boxes(fig, texts, draw: bool = True) -> list:
    if draw:
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    # the text's own box (an annotation's extent would include its connector line)
    return [Text.get_window_extent(t, renderer) for t in texts if t.get_text().strip()]


def assert_apart(found: list) -> None:
    for a, b in itertools.combinations(found, 2):
        assert not a.overlaps(b), (a, b)


def all_text(fig) -> str:
    return " ".join(t.get_text() for t in fig.findobj(Text))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_slope_chart_labels_never_overlap(n):
    shares, confs = shares_for(n)
    fig = figures.theme_shift(shares, confs)
    ax = fig.axes[0]
    found = boxes(fig, ax.texts)
    assert len(found) == 8 * (2 if n > 1 else 1)  # right labels, and left values with two or more
    assert_apart(found)
    assert_apart(boxes(fig, ax.get_xticklabels()))
    ticks = [t.get_text().replace("\n", " ") for t in ax.get_xticklabels()]
    assert [t.rsplit(" (", 1)[0] for t in ticks] == list(confs["conference_label"])
    assert min(t.get_fontsize() for t in ax.texts) >= 9
    plt.close(fig)


def test_a_change_of_one_point_is_singular():
    assert [signed_points(c) for c in (0.12, -0.01, 0.01, 0.0)] == ["+12 pts", "-1 pt", "+1 pt", "+0 pts"]


def test_slope_chart_labels_the_change_the_text_states():
    """With three conferences the text's last step is the second to the third: the chart's
    "(+N pts)" is that change, rounded the same way."""
    shares, confs = shares_for(3)
    step = shift_steps(shares, confs)[-1]
    fig = figures.theme_shift(shares, confs)
    labels = " ".join(t.get_text().replace("\n", " ") for t in fig.axes[0].texts)
    for move in step.gains + step.losses:
        assert f"{move.label} {move.after:.0%} ({signed_points(move.change)})" in labels
    assert f"since {confs['conference_label'].iloc[1]}" in all_text(fig).replace("\n", " ")
    plt.close(fig)


@pytest.mark.parametrize("n", [5, 20])
def test_many_conferences_get_one_panel_per_theme_on_one_scale(n):
    shares, confs = shares_for(n, n_themes=7)
    fig = figures.theme_shift(shares, confs)
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == 7
    assert len({ax.get_ylim() for ax in panels}) == 1
    step = shift_steps(shares, confs)[-1]
    titles = {ax.get_title(loc="left").replace("\n", " ") for ax in panels}
    for move in step.gains + step.losses:
        assert any(
            move.label in t and f"({points(move.change):+d} pts since {2000 + n - 2})" in t for t in titles
        ), titles
    fig.canvas.draw()
    for ax in panels:
        assert_apart(boxes(fig, ax.get_xticklabels(), draw=False))
        assert [t.get_text() for t in ax.get_xticklabels()] == [str(2000 + c) for c in range(n)]
    assert fig.get_size_inches()[0] <= style.MAX_WIDTH_IN
    plt.close(fig)


def test_a_conference_with_few_units_is_flagged_with_an_interval():
    shares, confs = shares_for(2, n_themes=4)
    second = shares["conference_order"] == 1
    shares.loc[second, "n_conference_units"] = 8
    shares.loc[second, "n_units"] = (shares.loc[second, "share"] * 8).round()
    for chart in (figures.theme_shift, figures.theme_shares):
        fig = chart(shares, confs)
        text = all_text(fig).replace("\n", " ")
        assert "* fewer than 20 units" in text and "Wilson" in text
        ticks = [t.get_text() for ax in fig.axes for t in ax.get_xticklabels()]
        assert any("*" in t and "(2001)" in t for t in ticks)
        assert not any("*" in t and "(2000)" in t for t in ticks)
        plt.close(fig)
    cells = all_text(figures.theme_shares(shares, confs))
    assert "–" in cells  # the small conference's cells give their interval "a%–b%"


@pytest.mark.parametrize("n", [1, 4, 20])
def test_every_chart_draws_any_number_of_conferences(n):
    shares, confs = shares_for(n, n_themes=4)
    keyness = pd.DataFrame(
        {
            "conference_order": [c for c in range(n) for _ in range(3)],
            "term": ["committee", "regional coordinator", "mandate"] * n,
            "statistic": [9.0, 4.0, 1.0] * n,
            "significant": ["True", "True", "False"] * n,
            "freq_target": [9, 4, 1] * n,
        }
    )
    counts = pd.DataFrame(
        {
            "conference_order": list(range(n)) * 2,
            "label": ["ORG"] * n + ["REGION"] * n,
            "canonical": ["International Atomic Energy Agency (IAEA)"] * n + ["Caribbean"] * n,
            "n_mentions": [2] * (2 * n),
        }
    )
    recs = pd.DataFrame(
        {"conference_order": list(range(n)), "actor": ["Member States"] * n, "unit_id": ["1"] * n}
    )
    drawn = [
        figures.theme_shift(shares, confs),
        figures.theme_shares(shares, confs),
        figures.keyness(keyness, confs),
        figures.entities(counts, confs),
        figures.recommendations_by_actor(recs, confs),
    ]
    for fig in drawn:
        texts = all_text(fig)
        if n > 1 or fig is not drawn[2]:
            assert str(2000 + n - 1) in texts  # the last conference is on every chart
        else:
            assert "at least two conferences" in texts  # keyness needs something to compare
        assert fig.get_size_inches()[0] <= style.MAX_WIDTH_IN
        fig.canvas.draw()
        for ax in fig.axes:
            assert_apart(boxes(fig, ax.get_xticklabels(), draw=False))
        if n == 20:  # drawn and checked: saving it is what the smaller cases test
            plt.close(fig)
            continue
        images = figures.render(fig)
        assert images["png"].startswith(b"\x89PNG") and b"<svg" in images["svg"][:1000]


def test_keyness_bars_follow_the_statistic_on_one_scale():
    shares, confs = shares_for(3)
    # "dual benefit model" ranks below "dual benefit": it is left out, not swapped in with
    # its own lower statistic
    keyness = pd.DataFrame(
        {
            "conference_order": [c for c in range(3) for _ in range(4)],
            "term": ["dual benefit", "committee", "dual benefit model", "region"] * 3,
            "statistic": [20.0, 12.0, 6.0, 3.0, 5.0, 4.0, 2.0, 1.0, 40.0, 1.5, 1.2, 1.1],
            "significant": ["True"] * 12,
            "freq_target": [9] * 12,
        }
    )
    fig = figures.keyness(keyness, confs)
    panels = [ax for ax in fig.axes if ax.patches]
    assert len(panels) == 3 and len({ax.get_xlim() for ax in panels}) == 1
    for ax in panels:
        widths = [p.get_width() for p in ax.patches]
        assert widths == sorted(widths)  # drawn bottom-up: the top bar is the largest
    names = [t.get_text() for t in panels[0].get_yticklabels()]
    assert names == ["region", "committee", "dual benefit"]
    plt.close(fig)


def test_text_without_glyphs_is_replaced_visibly_and_quietly():
    shares, confs = shares_for(2, n_themes=3)
    shares["label"] = shares["label"].str.replace("dual benefit", "核安全 دعم")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for chart in (figures.theme_shift, figures.theme_shares):
            fig = chart(shares, confs)
            figures.render(fig)
    assert style.MISSING in style.printable("核安全") and style.printable("Côte d’Ivoire") == "Côte d’Ivoire"


def test_rendering_is_byte_identical():
    shares, confs = shares_for(3)
    first = figures.render(figures.theme_shift(shares, confs))
    second = figures.render(figures.theme_shift(shares, confs))
    assert first == second


def test_spread_keeps_order_and_gaps():
    placed = style.spread([0.5, 0.5, 0.5, 0.1], [0.1, 0.1, 0.1, 0.1], 0.0, 1.0)
    ordered = sorted(placed)
    assert all(b - a >= 0.1 - 1e-9 for a, b in itertools.pairwise(ordered))
    assert placed[3] == min(placed)  # the lowest stays lowest
    assert min(placed) - 0.05 + 1e-9 >= 0.0 and max(placed) + 0.05 <= 1.0 + 1e-9
