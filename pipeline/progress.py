"""A progress bar on stderr for long runs, silent when stderr is not a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    yield from tqdm(
        items,
        desc=desc,
        total=total,
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
        leave=False,
        unit="doc",
    )
