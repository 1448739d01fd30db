"""The charts with one, two and many conferences: drawn, labelled, labels apart, same bytes."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.text import Text

from pipeline.report import figures


def shares_for(n_conferences: int, n_themes: int = 8) -> tuple[pd.DataFrame, pd.DataFrame]:
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
                    "year": str(2010 + c),
                    "conference": f"{40 + c}th UN Issues Conference",
                    "conference_label": f"{40 + c}th UN Issues Conference ({2010 + c})",
                    "conference_order": c,
                    "share": raw[t] / total,
                    "n_units": int(raw[t] * 10),
                }
            )
    shares = pd.DataFrame(rows)
    confs = shares.drop_duplicates("conference_order")[
        ["conference", "year", "conference_label", "conference_order"]
    ].reset_index(drop=True)
    return shares, confs


def text_boxes(fig) -> list:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    # the text's own box (an annotation's extent would include its connector line)
    return [Text.get_window_extent(t, renderer) for t in ax.texts if t.get_text().strip()]


@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_theme_shift_labels_never_overlap(n):
    shares, confs = shares_for(n)
    fig = figures.theme_shift(shares, confs)
    boxes = text_boxes(fig)
    expected = 8 * (2 if n > 1 else 1)  # right labels, and left values with two or more
    assert len(boxes) == expected
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)
    ticks = [t.get_text().replace("\n", " ") for t in fig.axes[0].get_xticklabels()]
    assert ticks == list(confs["conference_label"])
    assert min(t.get_fontsize() for t in fig.axes[0].texts) >= 9
    plt.close(fig)


@pytest.mark.parametrize("n", [1, 4])
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
        texts = " ".join(t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text")))
        if n > 1 or fig is not drawn[2]:
            assert f"({2010 + n - 1})" in texts  # the last conference is on every chart
        else:
            assert "at least two conferences" in texts  # keyness needs something to compare
        images = figures.render(fig)
        assert images["png"].startswith(b"\x89PNG") and b"<svg" in images["svg"][:1000]


def test_rendering_is_byte_identical():
    shares, confs = shares_for(3)
    first = figures.render(figures.theme_shift(shares, confs))
    second = figures.render(figures.theme_shift(shares, confs))
    assert first == second


def test_spread_keeps_order_and_gaps():
    placed = figures.spread([0.5, 0.5, 0.5, 0.1], [0.1, 0.1, 0.1, 0.1], 0.0, 1.0)
    ordered = sorted(placed)
    assert all(b - a >= 0.1 - 1e-9 for a, b in itertools.pairwise(ordered))
    assert placed[3] == min(placed)  # the lowest stays lowest
    assert min(placed) - 0.05 + 1e-9 >= 0.0 and max(placed) + 0.05 <= 1.0 + 1e-9
