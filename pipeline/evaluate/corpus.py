"""Gold corpora: where a gold file's documents are, and a scratch run of the pipeline on them.

A corpus is a gold file (the format of ``tests/gold/seed_gold.json``: documents keyed by their
source file name) or a folder holding ``gold.json``, ``docs/`` and optionally ``themes.json``.
The documents of a bare gold file are looked for beside it, in a ``docs/`` folder beside it,
then in the fallback folders the caller names.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Context, Paths

GOLD_DIR = Path("tests") / "gold"
FIXTURE_MEMOS = Path("tests") / "fixtures" / "memos"  # the seed memos' copies, for seed_gold.json
STAGES = ("ingest", "extract", "analyze")


class GoldError(ValueError):
    """A gold path that cannot be scored; the message names the file and the reason."""


@dataclass(frozen=True)
class GoldCorpus:
    path: Path  # what the user named: a gold file or a folder
    gold: dict
    doc_dirs: tuple[Path, ...]  # where its documents are looked for, in order
    themes_file: Path | None = None

    @property
    def sources(self) -> list[str]:
        return list(self.gold["docs"])

    def find_document(self, source: str) -> Path | None:
        for folder in self.doc_dirs:
            for candidate in (folder / source, folder / Path(source).name):
                if candidate.is_file():
                    return candidate
        return None


def project_root() -> Path:
    """The working directory when it holds tests/gold, else the project the package is in."""
    return Path.cwd() if (Path.cwd() / GOLD_DIR).is_dir() else Path(__file__).resolve().parents[2]


def load_corpus(path: Path, fallback_dirs: Iterable[Path] = ()) -> GoldCorpus:
    path = Path(path)
    if path.is_dir():
        gold_file, doc_dirs = path / "gold.json", [path / "docs", path]
    else:
        gold_file, doc_dirs = path, [path.parent / "docs", path.parent]
    try:
        gold = json.loads(gold_file.read_text(encoding="utf-8"))
    except OSError as error:
        raise GoldError(f"{gold_file}: cannot be read ({error.strerror or error})") from error
    except ValueError as error:
        raise GoldError(f"{gold_file}: not valid JSON ({error})") from error
    if not isinstance(gold, dict) or not isinstance(gold.get("docs"), dict):
        raise GoldError(f'{gold_file}: no "docs" object keyed by source file name')
    themes = gold_file.parent / "themes.json"
    return GoldCorpus(
        path=path,
        gold=gold,
        doc_dirs=tuple(dict.fromkeys([*doc_dirs, *map(Path, fallback_dirs)])),
        themes_file=themes if themes.is_file() else None,
    )


def default_corpora() -> list[GoldCorpus]:
    """Every gold corpus of the project: gold files in tests/gold (their documents in
    tests/fixtures/memos) and folders there with a gold.json."""
    root = project_root()
    folder = root / GOLD_DIR
    corpora = []
    for path in sorted(folder.glob("*.json")) + sorted(
        p for p in folder.iterdir() if (p / "gold.json").is_file()
    ):
        try:
            corpora.append(load_corpus(path, [root / FIXTURE_MEMOS]))
        except GoldError:
            continue  # other JSON files (notes, annotations) are not gold corpora
    return corpora


def series_corpus(corpus: GoldCorpus) -> GoldCorpus | None:
    """The corpus cut to its documents whose gold names a conference, when those are some but
    not all of its documents (two at least); else None."""
    docs = corpus.gold["docs"]
    series = {source: doc for source, doc in docs.items() if str(doc.get("conference") or "").strip()}
    if len(series) < 2 or len(series) == len(docs):
        return None
    return dataclasses.replace(corpus, gold={**corpus.gold, "docs": series})


def stage_documents(corpus: GoldCorpus, raw: Path) -> list[str]:
    """Copy the documents the gold names (and their ``.meta.toml`` files) into ``raw``;
    returns the sources not found."""
    raw.mkdir(parents=True, exist_ok=True)
    missing = []
    for source in corpus.sources:
        found = corpus.find_document(source)
        if found is None:
            missing.append(source)
            continue
        shutil.copy2(found, raw / found.name)
        for meta in (found.with_name(found.name + ".meta.toml"), found.with_suffix(".meta.toml")):
            if meta.is_file():
                shutil.copy2(meta, raw / meta.name)
    return missing


def run_pipeline(ctx: Context, workdir: Path) -> Context:
    """ingest -> extract -> analyze of ``workdir/raw`` into ``workdir/processed``; the context
    of that run."""
    from importlib import import_module

    run_ctx = dataclasses.replace(
        ctx,
        paths=Paths(raw=workdir / "raw", processed=workdir / "processed", reports=workdir / "reports"),
    )
    for stage in STAGES:
        import_module(f"pipeline.{stage}.stage").run(run_ctx)
    return run_ctx
