"""notebooks/explore.ipynb runs top to bottom on real analysis tables, so it never rots.

The kernel is this interpreter (the project's venv): a kernel spec named "python3" is
written to a temporary JUPYTER_PATH for the test, nothing is registered globally.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from pipeline.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "explore.ipynb"


def small_corpus(processed: Path) -> None:
    processed.mkdir(parents=True)
    pd.DataFrame(
        [
            {"doc_id": "a", "source": "a.txt", "status": "ok", "conference": "First", "year": "2011"},
            {"doc_id": "b", "source": "b.txt", "status": "ok", "conference": "Second", "year": "2013"},
        ]
    ).to_csv(processed / "documents.csv", index=False)
    texts = {
        "a": [
            "The committee mandate should be renewed.",
            "The committee needs a longer mandate.",
            "Mandate renewal for the committee matters.",
            "The committee programme of work grows.",
        ]
        * 3,
        "b": [
            "Regional coordinators help regional organizations.",
            "The dual benefit model helps regions.",
            "Regional champions promote the dual benefit model.",
            "Regional organizations host coordinators.",
        ]
        * 3,
    }
    rows = [
        {"doc_id": d, "unit_id": str(i), "kind": "sentence", "text": t, "section": "", "block": str(i)}
        for d, items in texts.items()
        for i, t in enumerate(items, start=1)
    ]
    pd.DataFrame(rows).to_csv(processed / "units.csv", index=False)


@pytest.fixture
def kernel_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (project venv)",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter-data"))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel draws inline
    return spec


def test_notebook_loads_the_tables_and_redraws_the_chart(tmp_path: Path, kernel_path: Path, monkeypatch):
    processed = tmp_path / "processed"
    small_corpus(processed)
    config = tmp_path / "pipeline.toml"
    config.write_text("[analyze]\nn_themes = 2\n", encoding="utf-8")
    assert cli_main(["analyze", "--config", str(config), f"--processed={processed}"]) == 0
    monkeypatch.setenv("MEMO_PROCESSED", str(processed))

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()

    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1  # the redrawn theme-share chart
    text = " ".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert str(processed) in text  # it read the folder it was pointed at
    assert "regional" in text.lower() and "committee" in text.lower()
