"""``make bench`` (``python -m tools.bench``): speed and memory as ratios against
baselines measured in the same run.

Builds a synthetic corpus by recombining the real units of the memos in ``--raw`` (default
``raw/``; so the text is realistic), a tenth of it as PDF, then measures, on this machine, in one run:

- extract words/s against plain spaCy (``nlp.pipe``, same model, default components, one
  process) over the same unit texts. The extract stage runs as a user starts it (a new
  process, start-up and model loading included) with an empty cache, so every document is
  parsed; plain spaCy is timed inside this process after its model is loaded;
- PDF ingest pages/s (the PDFs alone, a new process, start-up included);
- the full run, a no-change re-run and a one-new-memo re-run, each a separate CLI process;
  the re-runs as fractions of the full run;
- peak memory: the largest sum, over the CLI process and all its workers, of each
  process's proportional set size (PSS: shared pages counted once, split among the
  processes sharing them; resident set size where PSS is not available), sampled while
  each CLI run is going.

Ratios, not absolute times, are what to compare across machines: both sides of each
ratio ran on the same machine in the same minutes.
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pipeline
from pipeline.config import Context, Paths, load_settings
from pipeline.runner import resolve_jobs
from pipeline.tableio import read_table
from tools.synth import SyntheticMemo, synthetic_memos

NEW_MEMO_SEED = 99  # the memo added for the one-new-memo re-run (not one of the corpus)


class PeakMemory:
    """Samples the memory of a process and all its descendants while it runs."""

    # Each sample reads /proc/PID/smaps_rollup of every process, about 5 ms of kernel time
    # apiece: every 0.1 s that took a tenth of a core from the runs being timed. Memory
    # plateaus for seconds (models loaded, workers forked), so a quarter second finds it.
    def __init__(self, pid: int, interval: float = 0.25) -> None:
        import psutil

        self._root = psutil.Process(pid)
        self._interval = interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def _memory(process) -> int:
        """PSS where Linux gives it cheaply (``/proc/PID/smaps_rollup``), else RSS (which
        counts pages shared by forked workers once per process)."""
        try:
            with open(f"/proc/{process.pid}/smaps_rollup", encoding="ascii") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
        return int(process.memory_info().rss)

    def _sample(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            try:
                processes = [self._root, *self._root.children(recursive=True)]
            except psutil.Error:
                processes = []
            for process in processes:
                try:
                    total += self._memory(process)
                except psutil.Error:  # ended between listing and reading
                    continue
            self.peak_bytes = max(self.peak_bytes, total)
            self._stop.wait(self._interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Run:
    seconds: float
    peak_bytes: int
    stderr: str


def _cli(args: list[str], env: dict[str, str]) -> Run:
    """One CLI run as a user starts it (a new Python process), timed, its memory sampled."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    with PeakMemory(process.pid) as memory:
        _, err = process.communicate()
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"bench: `python -m pipeline {' '.join(args)}` failed:\n{err}")
    return Run(seconds, memory.peak_bytes, err)


def _plain_spacy_words_per_s(texts: list[str], model: str, batch_size: int) -> float:
    """The baseline: plain spaCy, default components, one process, ``nlp.pipe``; timed
    after the model is loaded."""
    from pipeline.nlp import load_model

    nlp = load_model(model)
    words = sum(len(t.split()) for t in texts)
    start = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=batch_size):
        pass
    return words / (time.perf_counter() - start)


def _write_corpus(memos: list[SyntheticMemo], raw: Path, pdf_dir: Path, n_pdf: int) -> int:
    """The memos as text files, the first ``n_pdf`` as PDF (also copied to ``pdf_dir``);
    returns the number of PDF pages."""
    from tools.synth_pdf import write_memo_pdf  # reportlab: a development dependency

    raw.mkdir(parents=True, exist_ok=True)
    pdf_dir.mkdir(parents=True, exist_ok=True)
    pages = 0
    for index, memo in enumerate(memos):
        if index < n_pdf:
            pdf = pdf_dir / memo.name.replace(".txt", ".pdf")
            pages += write_memo_pdf(memo.text, pdf, two_columns=index % 2 == 1)
            shutil.copy2(pdf, raw / pdf.name)
        else:
            (raw / memo.name).write_text(memo.text, encoding="utf-8")
    return pages


def _machine() -> str:
    try:
        import psutil

        memory = f"{psutil.virtual_memory().total / 1024**3:.0f} GiB"
    except ImportError:
        memory = "? GiB"
    return (
        f"{os.cpu_count()} cores, {memory}, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", type=Path, default=Path("raw"), help="memos whose units make the corpus")
    parser.add_argument("--docs", type=int, default=500, help="memos in the synthetic corpus (default 500)")
    parser.add_argument("--conferences", type=int, default=5, help="conferences in the synthetic corpus")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    parser.add_argument("--config", type=Path, default=None, help="settings file (default: ./pipeline.toml)")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where to build the corpus (default: a temporary folder)"
    )
    args = parser.parse_args(argv)
    settings = load_settings(args.config)
    ctx = Context(paths=Paths(raw=args.raw), settings=settings, jobs=resolve_jobs(args.jobs))
    return bench(ctx, args.docs, args.conferences, args.workdir)


def bench(ctx: Context, n_docs: int = 500, n_conferences: int = 5, workdir: Path | None = None) -> int:
    owned = workdir is None
    root = Path(tempfile.mkdtemp(prefix="memo-bench-")) if workdir is None else workdir
    try:
        return _bench(ctx, root, n_docs, n_conferences)
    finally:
        if owned:
            shutil.rmtree(root, ignore_errors=True)


def _bench(ctx: Context, root: Path, n_docs: int, n_conferences: int) -> int:
    model = str(ctx.settings["extract"]["model"])
    batch_size = int(ctx.settings["extract"].get("batch_size", 64))
    jobs = str(ctx.jobs)
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    if ctx.paths.raw.resolve() == (root / "raw").resolve():
        raise SystemExit("bench: --workdir must not hold the raw folder the memos come from")
    print(f"bench: {_machine()}; jobs={jobs}; model={model}", file=sys.stderr)
    # every run below starts from compiled bytecode, as a user's runs do after the first
    # (where PYTHONDONTWRITEBYTECODE is set, Python would otherwise compile the project on
    # every start)
    compileall.compile_dir(str(Path(pipeline.__file__).parent), quiet=1)

    # 1. The corpus: the real units, recombined; a tenth of the memos as PDF.
    seed = root / "seed-processed"
    _cli(["ingest", "--raw", str(ctx.paths.raw), "--processed", str(seed)], env)
    seed_units = read_table(seed / "units.csv")
    memos = synthetic_memos(seed_units, n_docs, n_conferences)
    raw, pdf_dir = root / "raw", root / "pdf-only"
    n_pdf = max(1, n_docs // 10)
    n_pages = _write_corpus(memos, raw, pdf_dir, n_pdf)
    print(
        f"bench: corpus of {n_docs} memos ({n_pdf} as PDF, {n_pages} PDF pages), "
        f"{n_conferences} conferences, in {root}",
        file=sys.stderr,
    )

    # 2. PDF ingest, the PDFs alone.
    pdf_run = _cli(
        ["ingest", "--raw", str(pdf_dir), "--processed", str(root / "pdf-processed"), "--jobs", jobs], env
    )

    # 3. The full run, then nothing changed, then one new memo: each a new process.
    folders = ["--raw", str(raw), "--processed", str(root / "processed"), "--reports", str(root / "reports")]
    print("bench: full run ...", file=sys.stderr)
    full = _cli(["run", *folders, "--jobs", jobs], env)
    noop = _cli(["run", *folders, "--jobs", jobs], env)
    if noop.stderr.count("up to date") < 4:
        raise SystemExit(f"bench: the no-change re-run was not a no-op:\n{noop.stderr}")
    extra = synthetic_memos(seed_units, 1, 1, seed=NEW_MEMO_SEED)[0]
    (raw / "zz_new_memo.txt").write_text(extra.text, encoding="utf-8")
    one_new = _cli(["run", *folders, "--jobs", jobs], env)

    # 4. The extract stage with an empty cache, on the units of the full corpus, against
    # plain spaCy over the same texts.
    fresh = root / "extract-fresh"
    fresh.mkdir(exist_ok=True)
    for table in ("documents.csv", "units.csv"):
        shutil.copy2(root / "processed" / table, fresh / table)
    print("bench: extract from an empty cache ...", file=sys.stderr)
    extract = _cli(["extract", "--processed", str(fresh), "--jobs", jobs], env)
    texts = read_table(fresh / "units.csv")["text"].tolist()
    words = sum(len(t.split()) for t in texts)
    ours = words / extract.seconds
    print("bench: plain spaCy ...", file=sys.stderr)
    plain = _plain_spacy_words_per_s(texts, model, batch_size)

    ratio_extract = ours / plain
    ratio_incremental = one_new.seconds / full.seconds
    peak_mb = max(r.peak_bytes for r in (full, noop, one_new, extract, pdf_run)) / 1024 / 1024
    print(f"machine: {_machine()}; --jobs {jobs}")
    print(f"corpus: {n_docs + 1} memos ({n_pdf} PDF), {len(texts)} units, {words} words")
    print(f"full run: {full.seconds:.1f} s (peak {full.peak_bytes / 1024**2:.0f} MB)")
    print(
        f"extract stage, empty cache: {ours:,.0f} words/s ({extract.seconds:.1f} s incl. start-up, "
        f"peak {extract.peak_bytes / 1024**2:.0f} MB)"
    )
    print(f"plain spaCy nlp.pipe ({model}, default components, 1 process): {plain:,.0f} words/s")
    pdf_s = pdf_run.seconds
    print(f"PDF ingest: {n_pages / pdf_s:.1f} pages/s ({n_pages} pages in {pdf_s:.1f} s incl. start-up)")
    print(f"no-change re-run: {noop.seconds:.2f} s ({noop.seconds / full.seconds:.3f} of full)")
    print(
        f"one-new-memo re-run: {one_new.seconds:.2f} s ({ratio_incremental:.3f} of full; "
        f"peak {one_new.peak_bytes / 1024**2:.0f} MB)"
    )
    print(f"peak memory (process tree, PSS): {peak_mb:.0f} MB")
    print(
        f"bench: extract_vs_spacy={ratio_extract:.2f} incremental_one_new={ratio_incremental:.3f} "
        f"noop_s={noop.seconds:.2f} peak_mb={peak_mb:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
