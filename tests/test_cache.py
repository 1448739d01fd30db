"""Incremental runs do only the work that changed: counted, not timed (shared machines are
noisy, so no test here measures seconds)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pandas as pd
import pytest

from pipeline.extract.entities import ENTITY_COLUMNS, acronym_forms, apply_acronym_forms
from pipeline.extract.recommendations import RECOMMENDATION_COLUMNS
from pipeline.extract.stage import ExtractResult, write_tables
from pipeline.tableio import output_batch, write_table
from tests.conftest import copy_memos, run_cli

NEW_MEMO = (
    "# Briefing Note\n\nDate: 3 March 2014\n\nDonors should fund regional workshops in Southeast Asia. "
    "The OSCE could host them.\n\n- more outreach to industry;\n- shared export-control lists.\n"
)
CACHES = ("ingest", "extract", "analyze")


def cache_entries(processed: Path) -> dict[str, dict[str, int]]:
    """Every per-document cache file, by stage, with its modification time."""
    return {
        stage: {p.name: p.stat().st_mtime_ns for p in (processed / ".cache" / stage).glob("*.pkl")}
        for stage in CACHES
    }


def outputs(processed: Path, reports: Path) -> dict[Path, int]:
    files = [*processed.glob("*.csv"), *processed.glob("*.json"), *reports.rglob("*.*")]
    return {p: p.stat().st_mtime_ns for p in files}


def run(args: list) -> str:
    """One CLI run in this process; what it said on stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert run_cli(*args, "--jobs", "1") == 0
    return err.getvalue()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A full run on the two memos, a run after adding a third memo, then a run with no
    change: what each said and what it left in the caches and outputs."""
    root = tmp_path_factory.mktemp("incremental")
    raw, processed, reports = copy_memos(root / "raw"), root / "processed", root / "reports"
    args = ["run", "--raw", raw, "--processed", processed, "--reports", reports]
    found: dict = {"processed": processed, "first": run(args), "caches_two": cache_entries(processed)}
    (raw / "third.md").write_text(NEW_MEMO, encoding="utf-8")
    found["one_new"] = run(args)
    found["caches_three"] = cache_entries(processed)
    found["outputs_before"] = outputs(processed, reports)
    found["no_change"] = run(args)
    found["outputs_after"] = outputs(processed, reports)
    found["caches_after"] = cache_entries(processed)
    return found


def test_one_new_memo_is_the_only_one_read_and_parsed(runs: dict) -> None:
    assert "extract: 2 of 2 documents parsed, 0 from cache" in runs["first"]
    before, after = runs["caches_two"], runs["caches_three"]
    assert all(len(before[stage]) == 2 for stage in CACHES), before
    err = runs["one_new"]
    assert "ingest: 3 of 3 documents read" in err
    assert "extract: 1 of 3 documents parsed, 2 from cache" in err
    assert "analyze: terms of 1 of 3 documents parsed, 2 from cache" in err
    for stage in CACHES:
        kept = {name: after[stage].get(name) for name in before[stage]}
        assert kept == before[stage], f"{stage}: the cached documents were redone"
        assert len(after[stage]) == 3, f"{stage}: one new entry, for the new memo"
    # the corpus-level analysis did rerun: the new memo is in its tables
    processed = runs["processed"]
    assert len(pd.read_csv(processed / "documents.csv")) == 3
    assert "third" in set(pd.read_csv(processed / "unit_themes.csv")["doc_id"])


def test_a_run_with_nothing_changed_does_nothing(runs: dict) -> None:
    err = runs["no_change"]
    for stage in ("ingest", "extract", "analyze", "report"):
        assert f"{stage}: up to date" in err
    assert "parsed" not in err
    assert runs["outputs_after"] == runs["outputs_before"]  # nothing rewritten
    assert runs["caches_after"] == runs["caches_three"]


def entity(doc_id: str, unit_id: str, text: str, label: str, canonical: str, source: str) -> dict:
    kind = "organization" if label == "ORG" else ""
    values = [doc_id, unit_id, text, label, canonical, "", 0, len(text), source, kind, False]
    return dict(zip(ENTITY_COLUMNS, values, strict=True))


def test_extract_writes_one_document_at_a_time_with_the_same_bytes(tmp_path: Path) -> None:
    """The streamed tables equal the tables built from every result at once, including an
    organization whose "Name (ACR)" form is learnt only in a later document."""
    values = ["a", "2", 'States should "act", now.', "Member States", "should", "sentence", "", "modal"]
    values.append("0.9")  # score
    recommendation = dict(zip(RECOMMENDATION_COLUMNS, values, strict=True))
    results = [
        ExtractResult(
            entities=[
                entity("a", "1", "Regional Network", "ORG", "Regional Network", "model"),
                entity("a", "2", "Peru, Lima", "COUNTRY", "Peru", "gazetteer"),
            ],
            recommendations=[recommendation],
        ),
        ExtractResult(),
        ExtractResult(
            entities=[entity("c", "1", "Regional Network (RN)", "ORG", "Regional Network (RN)", "acronym")]
        ),
    ]
    streamed, at_once = tmp_path / "streamed", tmp_path / "at_once"
    streamed.mkdir()
    at_once.mkdir()
    with output_batch():
        counts = write_tables(iter(results), streamed / "entities.csv", streamed / "recommendations.csv")
    entities = pd.DataFrame([r for res in results for r in res.entities], columns=ENTITY_COLUMNS)
    org_names = entities.loc[entities["label"] == "ORG", "canonical"]
    entities = apply_acronym_forms(entities, acronym_forms(org_names))
    recommendations = pd.DataFrame(
        [r for res in results for r in res.recommendations], columns=RECOMMENDATION_COLUMNS
    )
    write_table(entities, at_once / "entities.csv")
    write_table(recommendations, at_once / "recommendations.csv")
    assert counts == (3, 1)
    for name in ("entities.csv", "recommendations.csv"):
        assert (streamed / name).read_bytes() == (at_once / name).read_bytes(), name
    first_row = (streamed / "entities.csv").read_text(encoding="utf-8").splitlines()[1]
    assert "Regional Network (RN)" in first_row  # renamed from what a later document taught


def test_a_new_memo_is_parsed_once_by_each_stage_over_two_jobs(tmp_path: Path) -> None:
    """With two jobs, a run after adding one memo parses only that memo, in extract and in
    analyze, and its tables are those of a fresh run."""
    raw = copy_memos(tmp_path / "raw")
    processed = tmp_path / "processed"
    args = ["run", "--raw", raw, "--processed", processed, "--reports", tmp_path / "r"]
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert run_cli(*args, "--jobs", "2") == 0
    assert "analyze: terms of 2 of 2 documents parsed" in err.getvalue()
    (raw / "third.md").write_text(NEW_MEMO, encoding="utf-8")
    # without the kept theme model, the themes are fitted afresh too (with it, they would
    # continue the first run's: tests/test_themes.py)
    (processed / "theme_model.json").unlink()
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert run_cli(*args, "--jobs", "2") == 0
    assert "extract: 1 of 3 documents parsed" in err.getvalue()
    assert "analyze: terms of 1 of 3 documents parsed, 2 from cache" in err.getvalue()

    fresh = tmp_path / "fresh"
    run(["run", "--raw", raw, "--processed", fresh, "--reports", tmp_path / "fr"])
    for table in sorted(fresh.glob("*.csv")):
        assert (processed / table.name).read_bytes() == table.read_bytes(), table.name


def test_only_what_the_cache_lacks_goes_to_the_ingest_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file read before comes from the cache in the stage's own process; the workers
    get the new file alone, and the tables are those of a fresh ingest."""
    import pipeline.ingest.stage as ingest_stage

    sent: list[list[str]] = []
    real = ingest_stage.imap_documents

    def recording(func, items, **options):  # noqa: ANN001, ANN202 - same as imap_documents
        sent.append([Path(job.path).name for job in items])
        return real(func, items, **options)

    monkeypatch.setattr(ingest_stage, "imap_documents", recording)
    raw, processed = copy_memos(tmp_path / "raw"), tmp_path / "processed"
    assert run_cli("ingest", "--raw", raw, "--processed", processed, "--jobs", "2") == 0
    assert sorted(sent[-1]) == sorted(p.name for p in raw.iterdir())
    (raw / "third.md").write_text(NEW_MEMO, encoding="utf-8")
    assert run_cli("ingest", "--raw", raw, "--processed", processed, "--jobs", "2") == 0
    assert sent[-1] == ["third.md"]

    fresh = tmp_path / "fresh"
    assert run_cli("ingest", "--raw", raw, "--processed", fresh, "--jobs", "2") == 0
    for table in ("documents.csv", "units.csv"):
        assert (processed / table).read_bytes() == (fresh / table).read_bytes(), table
