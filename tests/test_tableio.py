"""Runs killed at any point keep the previous complete outputs; the next run completes."""

from __future__ import annotations

import filecmp
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from pipeline.ingest.text import read_text_file
from pipeline.ingest.units import build_units
from tests.conftest import ROOT, copy_memos, run_cli
from tools.synth import synthetic_memos

# Tables published together by one stage: after a kill, each group is entirely old or new.
STAGE_TABLES = {
    "ingest": ["documents.csv", "units.csv"],
    "extract": ["entities.csv", "recommendations.csv"],
    "analyze": [
        "themes.csv", "theme_shares.csv", "unit_themes.csv", "recurring_recommendations.csv",
        "recommendation_themes.csv",
    ],  # fmt: skip
}
# Where each run is killed: after so many seconds, or as soon as a stage reports on stderr
# that it is done (the moment one stage's tables are new and the next stage's still old).
KILL_POINTS: list[float | str] = [0.5, 2.0, "ingest:", "extract:", "analyze:"]


def snapshot(processed: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in processed.glob("*.csv")}


def write_corpus(raw: Path, n_docs: int, seed: int) -> None:
    """The two memos plus synthetic memos recombined from their units."""
    copy_memos(raw)
    seed_units = pd.DataFrame(
        [
            {"kind": unit.kind, "text": unit.text}
            for memo in sorted(raw.glob("*.txt"))
            for unit in build_units(read_text_file(memo).lines)
        ]
    )
    for memo in synthetic_memos(seed_units, n_docs, 2, seed=seed):
        (raw / f"s{seed}-{memo.name}").write_text(memo.text, encoding="utf-8")


def wait_for(process: subprocess.Popen, point: float | str) -> str:
    """Sleep ``point`` seconds, or read stderr until a line starts with ``point``; what was read."""
    if isinstance(point, float):
        time.sleep(point)
        return ""
    assert process.stderr is not None
    lines = []
    for line in process.stderr:
        lines.append(line)
        if line.startswith(point):
            return "".join(lines)
    raise AssertionError(f"the run ended before {point!r}: {''.join(lines)}")


def full_run(raw: Path, processed: Path, reports: Path) -> None:
    assert run_cli("run", "--raw", raw, "--processed", processed, "--reports", reports, "--jobs", "2") == 0


@pytest.mark.slow
def test_killed_runs_keep_complete_outputs_and_the_next_run_completes(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_corpus(raw, 12, seed=1)
    processed, reports = tmp_path / "processed", tmp_path / "reports"
    full_run(raw, processed, reports)
    before = snapshot(processed)

    # the uninterrupted run to compare with: the same start (the kept theme model with it)
    reference = tmp_path / "reference"
    shutil.copytree(processed, reference)
    write_corpus(raw, 12, seed=2)  # new work for the next run
    full_run(raw, reference, tmp_path / "reference-reports")
    after = snapshot(reference)
    assert set(after) >= {name for group in STAGE_TABLES.values() for name in group}

    env = {**os.environ, "PYTHONHASHSEED": "0"}
    command = [sys.executable, "-m", "pipeline", "run", "--raw", str(raw), "--processed", str(processed),
               "--reports", str(reports), "--jobs", "2", "--force"]  # fmt: skip
    for attempt, point in enumerate(KILL_POINTS):
        earlier_leftovers = set(processed.glob(".*.tmp"))
        process = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        err = wait_for(process, point)
        process.send_signal(signal.SIGKILL if attempt % 2 == 0 else signal.SIGINT)
        err += process.communicate(timeout=60)[1]
        assert "Traceback" not in err
        now = snapshot(processed)
        for stage, group in STAGE_TABLES.items():
            state = {name: now.get(name) for name in group}
            old = {name: before.get(name) for name in group}
            new = {name: after.get(name) for name in group}
            assert state in (old, new), f"{stage} tables mixed after a kill at {point!r}"
        if attempt % 2:  # SIGINT cleans up its temporary files; SIGKILL may leave one
            assert set(processed.glob(".*.tmp")) <= earlier_leftovers

    full_run(raw, processed, reports)
    for name in sorted(after):
        assert filecmp.cmp(processed / name, reference / name, shallow=False), name
    assert (reports / "index.html").is_file()
