"""Incremental runs: per-document results cached by content, stages skipped when unchanged.

A cache key joins the hash of a document's content with the fingerprint of the settings,
knowledge files and code that shape the result, so editing a gazetteer or a rule
invalidates exactly the results it could change. Each stage declares one :class:`Step`:
what it reads and writes and which settings, knowledge and code shape it; the step records
the fingerprint of all of them, and when it has not moved and the outputs exist, the
stage is skipped.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import __version__, knowledge
from pipeline.tableio import write_bytes, write_text

if TYPE_CHECKING:
    from pipeline.config import Context

PACKAGE_DIR = Path(__file__).resolve().parent


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def sha256_text(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f")
    return digest.hexdigest()


@lru_cache(maxsize=16)
def code_fingerprint(*relative: str) -> str:
    """Hash of the source and data files under the named package folders/files."""
    digest = hashlib.sha256(__version__.encode())
    for name in relative:
        target = PACKAGE_DIR / name
        files = sorted(target.rglob("*")) if target.is_dir() else [target]
        for file in files:
            if file.is_file() and file.suffix in {".py", ".toml", ".csv", ".txt", ".json"}:
                digest.update(str(file.relative_to(PACKAGE_DIR)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


class DocumentCache:
    """Pickled per-document results under ``processed/.cache/<stage>/``."""

    def __init__(self, root: Path, stage: str, fingerprint: str) -> None:
        self.folder = root / stage
        self.fingerprint = fingerprint
        self.used: set[str] = set()  # keys asked for or stored through this object

    def _path(self, content_hash: str) -> Path:
        return self.folder / f"{content_hash[:32]}-{self.fingerprint}.pkl"

    def has(self, content_hash: str) -> bool:
        """Whether an entry exists (without reading it): what to send to the workers."""
        return self._path(content_hash).is_file()

    def get(self, content_hash: str) -> Any | None:
        self.used.add(content_hash)
        path = self._path(content_hash)
        try:
            with open(path, "rb") as handle:
                return pickle.load(handle)
        except (OSError, pickle.PickleError, EOFError, AttributeError, ValueError):
            return None

    def put(self, content_hash: str, value: Any) -> None:
        self.used.add(content_hash)
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        write_bytes(self._path(content_hash), data, batched=False)

    def prune(self, keep: Iterable[str] | None = None) -> None:
        """Drop entries no current document uses (``keep``; by default the keys this
        object was asked for), so the cache does not grow forever."""
        wanted = {self._path(h).name for h in (self.used if keep is None else keep)}
        if self.folder.is_dir():
            for entry in self.folder.glob("*.pkl"):
                if entry.name not in wanted:
                    entry.unlink(missing_ok=True)


def files_fingerprint(files: Iterable[Path]) -> str:
    """Cheap fingerprint of files by name, size and modification time (no reading)."""
    parts = []
    for file in sorted(files):
        try:
            stat = file.stat()
            parts.append(f"{file}|{stat.st_size}|{stat.st_mtime_ns}")
        except OSError:
            parts.append(f"{file}|missing")
    return sha256_text(*parts)


class StageState:
    """Remembers the fingerprint of a stage's inputs, to skip it when nothing moved."""

    def __init__(self, processed: Path, stage: str) -> None:
        self.path = processed / ".state" / f"{stage}.json"

    def up_to_date(self, fingerprint: str, outputs: Iterable[Path]) -> bool:
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return saved.get("fingerprint") == fingerprint and all(p.exists() for p in outputs)

    def record(self, fingerprint: str) -> None:
        write_text(self.path, json.dumps({"fingerprint": fingerprint}))

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Step:
    """A stage's fingerprint, declared once by the stage.

    - ``inputs``: the files the stage reads (given the context); hashed by content, or by
      name, size and modification time with ``inputs_by_stat`` (raw memos: cheap to check)
    - ``outputs``: what it writes; all must exist for the stage to be skipped
    - ``settings_sections``: the settings sections that shape the outputs
    - ``code_paths``: package files and folders whose code shapes them (those of another
      stage included: a dependency declared here, not hidden)
    - ``knowledge``: the knowledge files it reads, as ``knowledge.data_path`` finds them
    """

    name: str
    inputs: Callable[[Context], Iterable[Path]]
    outputs: Callable[[Context], Iterable[Path]]
    settings_sections: tuple[str, ...] = ()
    code_paths: tuple[str, ...] = ()
    knowledge: tuple[str, ...] = ()
    inputs_by_stat: bool = False

    def content_fingerprint(self, ctx: Context) -> str:
        """Settings, knowledge and code: what per-document cache entries are keyed by."""
        return sha256_text(
            ctx.settings.fingerprint(*self.settings_sections) if self.settings_sections else "",
            code_fingerprint(*self.code_paths),
            knowledge.fingerprint(self.knowledge),
        )[:32]

    def fingerprint(self, ctx: Context) -> str:
        """The inputs and :meth:`content_fingerprint` together."""
        files = list(self.inputs(ctx))
        if self.inputs_by_stat:
            read = files_fingerprint(files)
        else:
            read = sha256_text(*(f"{f.name}:{sha256_file(f) if f.exists() else 'missing'}" for f in files))
        return sha256_text(read, self.content_fingerprint(ctx))[:32]

    def up_to_date(self, ctx: Context, fingerprint: str) -> bool:
        """Whether the outputs exist and were made from these very inputs (never with --force)."""
        state = StageState(ctx.paths.processed, self.name)
        return not ctx.force and state.up_to_date(fingerprint, self.outputs(ctx))

    def record(self, ctx: Context, fingerprint: str) -> None:
        """Remember what the outputs were made from (inside the stage's output batch)."""
        StageState(ctx.paths.processed, self.name).record(fingerprint)
