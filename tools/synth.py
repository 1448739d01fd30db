"""Synthetic memos for the benchmark and the tests, recombined from real units.

Recombining the sentences, list items and headings of real memos gives texts with the
vocabulary, sentence lengths and layout of the real corpus, at any size, deterministically.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pandas as pd

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September"]


@dataclass
class SyntheticMemo:
    name: str
    text: str
    conference: int
    year: int


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def synthetic_memos(
    units: pd.DataFrame, n_docs: int, n_conferences: int, seed: int = 0
) -> list[SyntheticMemo]:
    """Memo texts recombined from real units: headings, paragraphs and bullet lists."""
    rng = random.Random(seed)
    content = units[units["kind"].isin(["sentence", "list_item"])]
    sentences = content[content["kind"] == "sentence"]["text"].tolist()
    items = content[content["kind"] == "list_item"]["text"].tolist()
    headings = [h for h in units[units["kind"] == "heading"]["text"].tolist() if len(h.split()) >= 2]
    memos = []
    for index in range(n_docs):
        conference = index % n_conferences
        year = 2011 + conference
        number = 42 + conference
        lines = [
            "Policy Memo",
            "",
            f"DATE: {rng.choice(MONTHS)} {rng.randint(1, 28)}, {year}",
            "",
            f"SUBJECT: {rng.choice(headings)} ({index})",
            "",
        ]
        lines += [
            f"This memo reports on the {_ordinal(number)} annual UN Issues Conference, held in "
            f"Tarrytown, New York, February {rng.randint(1, 20)}–{rng.randint(21, 28)}, {year}.",
            "",
        ]
        for _ in range(rng.randint(3, 6)):
            lines += [rng.choice(headings), ""]
            for _ in range(rng.randint(1, 3)):
                lines += [" ".join(rng.sample(sentences, k=min(len(sentences), rng.randint(2, 5)))), ""]
        lines += ["Recommendations", "", "Participants suggested the following ways forward:", ""]
        lines += [f"- {item}" for item in rng.sample(items, k=min(len(items), rng.randint(4, 9)))]
        memos.append(SyntheticMemo(f"{year}_memo_{index:04d}.txt", "\n".join(lines) + "\n", conference, year))
    return memos
