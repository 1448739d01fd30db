"""Settings and folder layout, read once and passed down explicitly.

Defaults live in ``pipeline/data/defaults.toml``; a ``pipeline.toml`` in the working
directory overrides any of them, so users tune the pipeline without touching code.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import knowledge
from pipeline.knowledge import PACKAGE_DATA as DATA_DIR  # noqa: F401  (re-exported, see below)
from pipeline.knowledge import data_path  # noqa: F401

# DATA_DIR and data_path stay importable from here for code written against this module;
# the knowledge files themselves are found by pipeline.knowledge.


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class Paths:
    """Where the stages read and write; each folder can be moved from the command line."""

    raw: Path = Path("raw")
    processed: Path = Path("processed")
    reports: Path = Path("reports")

    @property
    def figures(self) -> Path:
        return self.reports / "figures"

    @property
    def cache(self) -> Path:
        return self.processed / ".cache"

    def table(self, name: str) -> Path:
        return self.processed / f"{name}.csv"


@dataclass(frozen=True)
class Settings:
    """All tunable values, as nested sections (``settings['extract']['model']``)."""

    values: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.values[section]

    def fingerprint(self, *sections: str) -> str:
        """Stable hash of the named sections, used as part of cache keys."""
        chosen = {s: self.values.get(s) for s in sections} if sections else self.values
        blob = json.dumps(chosen, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def load_settings(config_file: Path | None = None, **overrides: dict[str, Any]) -> Settings:
    """Defaults, then ``pipeline.toml`` (or ``config_file``), then explicit overrides."""
    values = tomllib.loads((knowledge.PACKAGE_DATA / "defaults.toml").read_text(encoding="utf-8"))
    user_file = config_file or Path("pipeline.toml")
    if user_file.is_file():
        values = _merge(values, tomllib.loads(user_file.read_text(encoding="utf-8")))
    values = _merge(values, {k: v for k, v in overrides.items() if v})
    return Settings(values)



@dataclass(frozen=True)
class Context:
    """What every stage receives: where to read and write, settings, and how to run."""

    paths: Paths = field(default_factory=Paths)
    settings: Settings = field(default_factory=load_settings)
    jobs: int = 1  # worker processes for per-document work
    scheduler: str | None = None  # address of a Dask distributed scheduler
    force: bool = False  # recompute even when inputs are unchanged
    strict: bool = False  # non-zero exit code when any document failed

    def __post_init__(self) -> None:
        # every knowledge loader of this process (and of the workers it forks) reads the
        # files of the settings' data_dir
        knowledge.use_data_dir(knowledge.data_dir_setting(self.settings))
