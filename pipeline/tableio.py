"""Thin file I/O shared by the stages: atomic writes and reading the documented tables.

Every output goes to a temporary file in the same folder and is renamed into place, so an
interrupted run never leaves a half-written table and the previous complete one survives.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(target: Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_table(frame: pd.DataFrame, target: Path) -> None:
    """UTF-8 CSV with a header row, as OUTPUTS.md promises."""
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8")


def read_table(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a documented table; text stays text (no NaN for empty strings)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    if columns is not None:
        for column in columns:
            if column not in frame.columns:
                frame[column] = ""
    return frame
