"""Every backend writes the same tables: serial, local processes, and a Dask cluster."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from tests.conftest import copy_memos, run_cli

PER_DOCUMENT_STAGES = ["ingest", "extract"]
TABLES = ["documents.csv", "units.csv", "entities.csv", "recommendations.csv"]


def run_stages(raw: Path, processed: Path, *options: str) -> None:
    for stage in PER_DOCUMENT_STAGES:
        assert run_cli(stage, "--raw", raw, "--processed", processed, *options) == 0


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = copy_memos(tmp_path_factory.mktemp("backends") / "raw")
    (folder / "third.md").write_text(
        "# Briefing Note\n\nDonors should fund regional workshops in Southeast Asia. "
        "The OSCE could host them.\n\n- more outreach to industry;\n- shared export-control lists.\n",
        encoding="utf-8",
    )
    return folder


@pytest.fixture(scope="module")
def serial(raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    processed = tmp_path_factory.mktemp("serial")
    run_stages(raw, processed, "--jobs", "1")
    return processed


def assert_same_tables(left: Path, right: Path) -> None:
    for table in TABLES:
        assert filecmp.cmp(left / table, right / table, shallow=False), table


def test_process_pool_equals_serial(raw: Path, serial: Path, tmp_path: Path) -> None:
    run_stages(raw, tmp_path, "--jobs", "2")
    assert_same_tables(serial, tmp_path)


def test_dask_cluster_equals_serial(raw: Path, serial: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        run_stages(raw, tmp_path, "--scheduler", cluster.scheduler_address)
    assert_same_tables(serial, tmp_path)


def power(exponents: dict[int, int], n: int) -> int:
    return n ** exponents[n]


@pytest.mark.parametrize("jobs", [1, 2])
def test_fork_map_gives_every_result_in_order_with_the_shared_inputs(jobs: int) -> None:
    """``runner.fork_map``: the workers read ``shared`` (inherited, not sent) and the
    results come back in the order of the items, whatever the number of jobs."""
    from pipeline.runner import fork_map

    items = [3, 1, 2]
    assert fork_map(power, items, {3: 2, 1: 5, 2: 3}, jobs=jobs) == [9, 1, 8]
    assert fork_map(power, [], {}, jobs=jobs) == []


def test_a_scheduler_without_dask_installed_says_how_to_get_it(monkeypatch, capsys) -> None:
    import importlib.util

    real = importlib.util.find_spec

    def without_dask(name: str, *args: object):
        return None if name == "distributed" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_dask)
    with pytest.raises(SystemExit) as stopped:
        run_cli("ingest", "--scheduler", "tcp://127.0.0.1:1")
    message = str(stopped.value)
    assert message.startswith("error: --scheduler") and "pip install '.[cluster]'" in message
