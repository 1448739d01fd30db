"""Ingest stage I/O: every file in the raw folder -> documents.csv and units.csv.

Each file is handled alone (``ingest_one``): a file that cannot be read becomes a row with
``status=error`` and a one-line reason, and every other file still comes through.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.cache import (
    DocumentCache,
    Step,
    sha256_file,
)
from pipeline.config import Context
from pipeline.ingest.layout import Extracted, IngestError
from pipeline.ingest.metadata import read_sidecars, sidecar_for, text_metadata, with_file_year, with_given
from pipeline.ingest.units import build_units
from pipeline.runner import imap_documents
from pipeline.tableio import TableWriter, output_batch, write_table

DOCUMENT_COLUMNS = [
    "doc_id", "source", "sha256", "format", "status", "error",
    "title", "doc_type", "date", "year", "conference", "edition", "series", "venue", "organizer",
    "meta_source", "n_pages", "n_units", "n_words", "encoding", "n_removed_lines", "notes",
]  # fmt: skip
UNIT_COLUMNS = ["doc_id", "unit_id", "section", "kind", "text", "page", "block", "level", "marker", "speaker"]
FORMATS = {
    ".pdf": "pdf", ".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md",
    ".docx": "docx", ".html": "html", ".htm": "html", ".xhtml": "html",
}  # fmt: skip
SIDECAR_NAMES = ("manifest.csv",)


@dataclass
class IngestJob:
    """One file to read; plain data so it can travel to a worker process or a cluster."""

    path: str
    source: str
    doc_id: str
    settings: dict
    cache_root: str
    fingerprint: str


@dataclass
class DocResult:
    row: dict
    units: list[dict] = field(default_factory=list)


# --------------------------------------------------------------------------- discovery


def discover(raw: Path) -> list[Path]:
    """Every candidate memo below ``raw`` (hidden files and metadata sidecars skipped)."""
    found = []
    for path in sorted(raw.rglob("*")):
        relative = path.relative_to(raw)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.name.endswith(".meta.toml") or path.name in SIDECAR_NAMES:
            continue
        if path.is_dir() and not path.is_symlink() and path.suffix.lower() not in FORMATS:
            continue
        found.append(path)
    return found


def make_doc_ids(sources: list[str]) -> list[str]:
    """Stable, unique ids from file names: lower-case ASCII slugs of the path."""
    slugs = [_slug(s.rsplit(".", 1)[0] if "." in Path(s).name else s) for s in sources]
    counts: dict[str, int] = {}
    for slug in slugs:
        counts[slug] = counts.get(slug, 0) + 1
    ids, seen = [], set()
    for source, slug in zip(sources, slugs, strict=True):
        candidate = (
            slug if counts[slug] == 1 else f"{slug}-{Path(source).suffix.lstrip('.').lower()}"
        )
        base, n = candidate, 2
        while candidate in seen:
            candidate, n = f"{base}-{n}", n + 1
        seen.add(candidate)
        ids.append(candidate)
    return ids


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug or "document"


# --------------------------------------------------------------------------- one document


class _Timeout(BaseException):
    """Not an ``Exception``: PDF parsers catch ``Exception`` around small steps and would
    swallow it, and the document would then be read to the end."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Abandon a document that takes too long (only where signals are available). The alarm
    repeats until the document is abandoned, in case a library's bare ``except`` eats one."""
    usable = (
        seconds
        and hasattr(signal, "SIGALRM")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return
    armed = [True]

    def _raise(signum, frame):  # noqa: ARG001
        if armed[0]:
            raise _Timeout

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds, min(seconds, 0.5))
    try:
        yield
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def detect_format(path: Path) -> str:
    """Format from the bytes first (a PDF named .txt is still a PDF), then the extension."""
    with contextlib.suppress(OSError), open(path, "rb") as handle:
        if handle.read(1024).lstrip().startswith(b"%PDF-"):
            return "pdf"
    return FORMATS.get(path.suffix.lower(), "")


def read_any(path: Path, fmt: str, settings: dict) -> Extracted:
    if fmt == "pdf":
        from pipeline.ingest.pdf import read_pdf

        return read_pdf(path, min_chars_per_page=int(settings.get("min_chars_per_page", 20)))
    if fmt == "docx":
        from pipeline.ingest.word import read_docx

        return read_docx(path)
    if fmt == "html":
        from pipeline.ingest.web import read_html

        return read_html(path)
    from pipeline.ingest.text import read_text_file

    return read_text_file(path)


def _check_file(path: Path, max_mb: float) -> None:
    if path.is_symlink() and not path.exists():
        raise IngestError("broken link: the file it points to does not exist")
    if path.is_dir():
        raise IngestError("is a folder, not a file")
    if not path.is_file():
        raise IngestError("not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise IngestError("empty file (0 bytes)")
    if max_mb and size > max_mb * 1024 * 1024:
        raise IngestError(
            f"file too large: {size / 1024 / 1024:.1f} MB (limit {max_mb:g} MB, "
            "setting ingest.max_file_mb)"
        )
    if not os.access(path, os.R_OK):
        raise IngestError("not readable: permission denied")


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


def ingest_one(job: IngestJob) -> DocResult:
    """Read one file into a document row and its units; never raises for bad input."""
    path = Path(job.path)
    row: dict = dict.fromkeys(DOCUMENT_COLUMNS, "")
    row.update(
        doc_id=job.doc_id,
        source=job.source,
        format=FORMATS.get(path.suffix.lower(), path.suffix.lower().lstrip(".")),
    )
    try:
        _check_file(path, float(job.settings.get("max_file_mb", 0)))
        row["sha256"] = sha256_file(path)
        cache = DocumentCache(Path(job.cache_root), "ingest", job.fingerprint)
        cached = cache.get(row["sha256"])
        if cached is None:
            fmt = detect_format(path)
            if not fmt:
                suffix = path.suffix or "(none)"
                raise IngestError(
                    f"unsupported format '{suffix}': expected PDF, Word (.docx), "
                    "web page (.html), text or Markdown"
                )
            with time_limit(float(job.settings.get("doc_timeout_s", 0))):
                cached = _ingest_content(path, fmt, job.settings)
            cache.put(row["sha256"], cached)
        content_row, units, text_meta = cached
        row.update(content_row)
    except IngestError as error:
        return DocResult(_error_row(row, _one_line(error)))
    except _Timeout:
        limit = job.settings.get("doc_timeout_s")
        return DocResult(
            _error_row(row, f"took longer than {limit} s to read (setting ingest.doc_timeout_s)")
        )
    except PermissionError:
        return DocResult(_error_row(row, "not readable: permission denied"))
    except MemoryError:
        return DocResult(_error_row(row, "ran out of memory while reading"))
    except Exception as error:  # noqa: BLE001 - one bad file must not stop the corpus
        return DocResult(
            _error_row(row, f"could not be read ({type(error).__name__}: {_one_line(error)})")
        )
    # what the text says is cached with it; the year fallback reads the file name
    row.update(with_file_year(text_meta, job.source))
    return DocResult(row, [dict(u, doc_id=job.doc_id) for u in units])


def _ingest_content(path: Path, fmt: str, settings: dict) -> tuple[dict, list[dict], dict[str, str]]:
    extracted = read_any(path, fmt, settings)
    units = build_units(extracted.lines)
    if not units:
        raise IngestError("no text found in the file")
    unit_rows = [asdict(u) for u in units]
    content_row = {
        "format": fmt,
        "status": "ok",
        "n_pages": extracted.n_pages if extracted.n_pages is not None else "",
        "n_units": len(units),
        "n_words": sum(len(u.text.split()) for u in units),
        "encoding": extracted.encoding,
        "n_removed_lines": extracted.removed_lines,
        "notes": "; ".join(extracted.notes),
    }
    return content_row, unit_rows, text_metadata(units, extracted.properties)


def _in_cache(job: IngestJob, cache: DocumentCache) -> bool:
    """Whether the file's content has a cache entry; a file that cannot even be hashed goes
    to ``ingest_one``, which says why."""
    try:
        return cache.has(sha256_file(Path(job.path)))
    except OSError:
        return False


def _error_row(row: dict, message: str) -> dict:
    row.update(status="error", error=message)
    return row


# --------------------------------------------------------------------------- stage


def _stage_inputs(ctx: Context) -> list[Path]:
    sidecars = [p for p in ctx.paths.raw.rglob("*") if p.name.endswith(".meta.toml")]
    return [*discover(ctx.paths.raw), *sidecars, *(ctx.paths.raw / name for name in SIDECAR_NAMES)]


STEP = Step(
    "ingest",
    inputs=_stage_inputs,
    outputs=lambda ctx: [ctx.paths.table("documents"), ctx.paths.table("units")],
    settings_sections=("ingest",),
    code_paths=("ingest", "cache.py"),
    knowledge=("layout.toml",),
    inputs_by_stat=True,
)


def _report_warnings(documents: pd.DataFrame, problems: list[str]) -> None:
    """Sidecar and manifest problems, ingest's own notes on documents that were read, and
    the documents that cannot be placed in time (they stay in the tables, out of every time
    series); said on every run, also when nothing was read again."""
    from pipeline.analyze.corpus import undated

    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    noted = documents[documents["notes"].fillna("") != ""] if "notes" in documents else documents.iloc[:0]
    for _, row in noted.iterrows():
        print(f"note: {row['source']}: {row['notes']}", file=sys.stderr)
    for source in undated(documents)["source"]:
        sidecar = f"{source.rsplit('.', 1)[0]}.meta.toml"
        print(f"undated: {source} — give its year in {sidecar}", file=sys.stderr)


def run(ctx: Context) -> pd.DataFrame:
    """Ingest every file of ``ctx.paths.raw``; write documents.csv and units.csv."""
    raw = ctx.paths.raw
    if not raw.is_dir():
        raise SystemExit(f"error: raw folder not found: {raw}")
    files = discover(raw)
    documents_csv, units_csv = ctx.paths.table("documents"), ctx.paths.table("units")
    sources = [str(p.relative_to(raw)) for p in files]
    fingerprint = STEP.fingerprint(ctx)
    if STEP.up_to_date(ctx, fingerprint):
        print("ingest: up to date", file=sys.stderr)
        documents = pd.read_csv(documents_csv, dtype=str, keep_default_na=False)
        _report_warnings(documents, read_sidecars(raw, sources)[1])
        return documents

    doc_ids = make_doc_ids(sources)
    settings = dict(ctx.settings["ingest"])
    content_fp = STEP.content_fingerprint(ctx)
    jobs = [
        IngestJob(str(p), s, d, settings, str(ctx.paths.cache), content_fp)
        for p, s, d in zip(files, sources, doc_ids, strict=True)
    ]
    # the cache is looked at here: a file read before is a cache entry away, cheaper here
    # than its trip to a worker and back; only the others go to the workers
    cache = DocumentCache(ctx.paths.cache, "ingest", content_fp)
    todo = [job for job in jobs if not _in_cache(job, cache)]
    parsed = imap_documents(ingest_one, todo, jobs=ctx.jobs, scheduler=ctx.scheduler, desc="ingest")
    sent = {id(job) for job in todo}
    results = (next(parsed) if id(job) in sent else ingest_one(job) for job in jobs)
    # closing: the worker pool is shut down here, not whenever the generator is collected
    with output_batch(), contextlib.closing(parsed):  # both tables appear together or not at all
        given, problems = read_sidecars(raw, sources)
        rows, hashes = [], []
        with TableWriter(units_csv, UNIT_COLUMNS) as units_out:
            for result in results:  # one document in memory at a time
                row = result.row
                for origin, values in given.items():
                    row = with_given(row, sidecar_for(row["source"], values), origin)
                rows.append(row)
                hashes.append(result.row["sha256"])
                units_out.write(result.units)
        documents = pd.DataFrame(rows, columns=DOCUMENT_COLUMNS)
        write_table(documents, documents_csv)
        cache.prune(h for h in hashes if h)
        STEP.record(ctx, fingerprint)
    failed = documents[documents["status"] == "error"]
    for _, bad in failed.iterrows():
        print(f"error: {bad['source']}: {bad['error']}", file=sys.stderr)
    _report_warnings(documents, problems)
    print(
        f"ingest: {len(documents) - len(failed)} of {len(documents)} documents read, "
        f"{units_out.rows_written} units" + (f"; {len(failed)} failed (see above)" if len(failed) else ""),
        file=sys.stderr,
    )
    return documents
