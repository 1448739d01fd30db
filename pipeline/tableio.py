"""Thin file I/O shared by the stages: atomic writes and reading the documented tables.

Every output goes to a temporary file in the same folder and is renamed into place, so an
interrupted run never leaves a half-written table and the previous complete one survives.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

_UMASK = os.umask(0)
os.umask(_UMASK)

_BATCH: contextvars.ContextVar[list[tuple[Path, Path]] | None] = contextvars.ContextVar(
    "output_batch", default=None
)


@contextlib.contextmanager
def output_batch() -> Iterator[None]:
    """Publish all outputs written inside the block together, at its end.

    A stage writes several tables; inside a batch each goes to a finished temporary file
    and all are renamed into place only when the stage has completed, so a run killed at
    any point leaves the previous complete set of tables, never a mix.
    """
    staged: list[tuple[Path, Path]] = []
    token = _BATCH.set(staged)
    try:
        yield
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    finally:
        _BATCH.reset(token)
    for tmp, target in staged:
        os.replace(tmp, target)


@contextlib.contextmanager
def atomic_path(target: Path, *, batched: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success.

    Inside ``output_batch`` the rename waits for the batch, unless ``batched`` is False
    (for independent files such as cache entries)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    published = False
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs follow the user's umask
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        batch = _BATCH.get() if batched else None
        if batch is None:
            os.replace(tmp, target)
        else:
            batch.append((tmp, target))
        published = True
    finally:
        if not published:
            tmp.unlink(missing_ok=True)


def write_text(target: Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes(target: Path, data: bytes, *, batched: bool = True) -> None:
    with atomic_path(target, batched=batched) as tmp:
        tmp.write_bytes(data)


def write_table(frame: pd.DataFrame, target: Path) -> None:
    """UTF-8 CSV with a header row, as docs/outputs.md promises."""
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8")


class TableWriter:
    """Write a CSV table piece by piece (one document at a time), atomically.

    Rows go to a temporary file as they arrive, a few thousand at a time (each ``to_csv``
    call costs milliseconds to start, so one per document adds up on a large corpus), so
    memory holds a bounded number of rows, and the file is renamed into place only when
    every piece has been written.
    """

    def __init__(self, target: Path, columns: list[str], buffer_rows: int = 5000) -> None:
        self.target = Path(target)
        self.columns = columns
        self.rows_written = 0
        self._buffer: list[dict] = []
        self._buffer_rows = buffer_rows
        self._context = atomic_path(self.target)

    def __enter__(self) -> TableWriter:
        self._tmp = self._context.__enter__()
        self._handle = open(self._tmp, "w", encoding="utf-8", newline="")
        pd.DataFrame(columns=self.columns).to_csv(self._handle, index=False)
        return self

    def write(self, rows: list[dict]) -> None:
        self._buffer.extend(rows)
        self.rows_written += len(rows)
        if len(self._buffer) >= self._buffer_rows:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            # object columns: each value prints as itself (an int page number stays "1" even
            # when another document's rows, gathered with it, have no page)
            frame = pd.DataFrame(self._buffer, columns=self.columns, dtype=object)
            frame.to_csv(self._handle, index=False, header=False)
            self._buffer = []

    def __exit__(self, *exc_info) -> None:
        try:
            if exc_info[0] is None:
                self.flush()
        finally:
            self._handle.close()
            self._context.__exit__(*exc_info)


def read_table(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a documented table; text stays text (no NaN for empty strings), as plain Python
    strings: the stages walk these tables row by row, and rows of pandas' own string arrays
    are several times slower to walk."""
    frame = pd.read_csv(path, dtype=object, keep_default_na=False, encoding="utf-8")
    if columns is not None:
        for column in columns:
            if column not in frame.columns:
                frame[column] = ""
    return frame
