"""``make bench``: speed and memory as ratios against baselines measured in the same run.

Builds a synthetic corpus by recombining the real units of the memos in ``raw/`` (so the
text is realistic), then measures, on this machine, in one run:

- extract words/s against plain spaCy (``nlp.pipe``, same model, default components, one
  process) over the same unit texts;
- PDF ingest pages/s;
- a no-change re-run and a one-new-memo re-run as fractions of the full run;
- peak memory (resident set of the whole process tree, sampled).

Ratios, not absolute times, are what to compare across machines: both sides of each
ratio ran on the same machine in the same minute.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from pipeline.config import Context
from pipeline.synth import SyntheticMemo, synthetic_memos
from pipeline.tableio import read_table


class PeakMemory:
    """Samples the resident memory of this process and all its children."""

    def __init__(self, interval: float = 0.05) -> None:
        import psutil

        self._process = psutil.Process()
        self._interval = interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            try:
                processes = [self._process, *self._process.children(recursive=True)]
            except psutil.Error:
                processes = [self._process]
            for process in processes:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    continue
            self.peak_bytes = max(self.peak_bytes, total)
            self._stop.wait(self._interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def _timed_run(args: list[str], env: dict[str, str]) -> float:
    """Time one CLI run as a user starts it: a new Python process."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipeline", *args], check=True, env=env, capture_output=True)
    return time.perf_counter() - start


def _plain_spacy_words_per_s(texts: list[str], model: str) -> float:
    """The baseline: plain spaCy, default components, one process, ``nlp.pipe``."""
    from pipeline.nlp import load_model

    nlp = load_model(model)
    words = sum(len(t.split()) for t in texts)
    start = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=64):
        pass
    return words / (time.perf_counter() - start)


def _write_pdfs(memos: list[SyntheticMemo], folder: Path) -> int:
    from pipeline.synth import write_memo_pdf

    pages = 0
    for memo in memos:
        pages += write_memo_pdf(memo.text, folder / memo.name.replace(".txt", ".pdf"))
    return pages


def main(ctx: Context, n_docs: int = 500, n_conferences: int = 5, workdir: Path | None = None) -> int:
    owned = workdir is None
    root = Path(tempfile.mkdtemp(prefix="memo-bench-")) if owned else Path(workdir)
    try:
        return _bench(ctx, root, n_docs, n_conferences)
    finally:
        if owned:
            shutil.rmtree(root, ignore_errors=True)


def _bench(ctx: Context, root: Path, n_docs: int, n_conferences: int) -> int:
    model = ctx.settings["extract"]["model"]
    jobs = str(ctx.jobs)
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    print(f"bench: machine has {os.cpu_count()} cores; jobs={jobs}; model={model}", file=sys.stderr)

    # 1. The corpus: real units recombined.
    seed_dir = root / "seed-processed"
    _timed_run(["ingest", "--raw", str(ctx.paths.raw), "--processed", str(seed_dir)], env)
    seed_units = read_table(seed_dir / "units.csv")
    memos = synthetic_memos(seed_units, n_docs, n_conferences)
    raw = root / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    n_pdf = max(1, n_docs // 10)
    for memo in memos[n_pdf:]:
        (raw / memo.name).write_text(memo.text, encoding="utf-8")
    pdf_dir = root / "pdf-only"
    pdf_dir.mkdir(exist_ok=True)
    n_pages = _write_pdfs(memos[:n_pdf], pdf_dir)
    for pdf in pdf_dir.iterdir():
        shutil.copy2(pdf, raw / pdf.name)
    print(f"bench: corpus of {n_docs} memos ({n_pdf} as PDF, {n_pages} PDF pages), "
          f"{n_conferences} conferences", file=sys.stderr)  # fmt: skip

    folders = ["--raw", str(raw), "--processed", str(root / "processed"), "--reports", str(root / "reports")]

    # 2. PDF ingest pages/s (PDFs alone).
    pdf_time = _timed_run(["ingest", "--raw", str(pdf_dir), "--processed", str(root / "pdf-processed"),
                           "--jobs", jobs], env)  # fmt: skip
    pages_per_s = n_pages / pdf_time

    # 3. The full run, with the peak memory of the whole process tree.
    with PeakMemory() as memory:
        full_s = _timed_run(["run", *folders, "--jobs", jobs], env)
    units = read_table(root / "processed" / "units.csv")
    texts = units["text"].tolist()
    words = sum(len(t.split()) for t in texts)

    # 4. Extract alone, forced, against plain spaCy over the same texts.
    extract_s = _timed_run(["extract", *folders, "--jobs", jobs, "--force"], env)
    ours = words / extract_s
    plain = _plain_spacy_words_per_s(texts, model)

    # 5. Incremental: nothing changed, then one new memo.
    noop_s = _timed_run(["run", *folders, "--jobs", jobs], env)
    extra = synthetic_memos(seed_units, 1, 1, seed=99)[0]
    (raw / "zz_new_memo.txt").write_text(extra.text, encoding="utf-8")
    one_new_s = _timed_run(["run", *folders, "--jobs", jobs], env)

    ratio_extract = ours / plain
    ratio_incremental = one_new_s / full_s
    peak_mb = memory.peak_bytes / 1024 / 1024
    print(f"corpus: {len(memos)} memos, {len(texts)} units, {words} words")
    print(f"full run: {full_s:.1f} s")
    print(f"extract stage: {ours:,.0f} words/s (forced re-run, {extract_s:.1f} s incl. start-up)")
    print(f"plain spaCy nlp.pipe ({model}, default components, 1 process): {plain:,.0f} words/s")
    print(f"PDF ingest: {pages_per_s:.1f} pages/s ({n_pages} pages in {pdf_time:.1f} s)")
    print(f"no-change re-run: {noop_s:.2f} s ({noop_s / full_s:.3f} of full)")
    print(f"one-new-memo re-run: {one_new_s:.2f} s ({ratio_incremental:.3f} of full)")
    print(f"peak memory (process tree): {peak_mb:.0f} MB")
    print(
        f"bench: extract_vs_spacy={ratio_extract:.2f} incremental_one_new={ratio_incremental:.3f} "
        f"noop_s={noop_s:.2f} peak_mb={peak_mb:.0f}"
    )
    return 0
