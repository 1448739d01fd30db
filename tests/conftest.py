"""Shared fixtures: the real memos, the gold file, and a helper to run the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent
# Copies of the seed memos: tests never read the live raw/, where a user keeps their own memos.
MEMOS = ROOT / "tests" / "fixtures" / "memos"
GOLD = ROOT / "tests" / "gold" / "seed_gold.json"


def memo_paths() -> list[Path]:
    return sorted(p for p in MEMOS.iterdir() if p.suffix in {".txt", ".md", ".pdf"})


@pytest.fixture(scope="session")
def memos() -> list[Path]:
    paths = memo_paths()
    assert len(paths) >= 2, "tests/fixtures/memos must hold the two seed memos"
    return paths


@pytest.fixture(scope="session")
def memo_2011(memos: list[Path]) -> Path:
    return next(p for p in memos if p.name.startswith("2011"))


@pytest.fixture(scope="session")
def memo_2013(memos: list[Path]) -> Path:
    return next(p for p in memos if p.name.startswith("2013"))


@pytest.fixture(scope="session")
def gold() -> dict:
    return json.loads(GOLD.read_text(encoding="utf-8"))


def copy_memos(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for path in memo_paths():
        shutil.copy2(path, target / path.name)
    return target


def run_cli(*args: str | Path) -> int:
    return cli_main([str(a) for a in args])
