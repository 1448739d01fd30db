"""Ingest over folders of files: bad files fail alone, with a plain one-line reason."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.tableio import read_table, write_table
from tests.conftest import copy_memos, run_cli


def ingest(raw: Path, processed: Path, *extra: str) -> tuple[int, pd.DataFrame, pd.DataFrame]:
    code = run_cli("ingest", "--raw", raw, "--processed", processed, "--jobs", "1", *extra)
    return code, read_table(processed / "documents.csv"), read_table(processed / "units.csv")


def by_source(documents: pd.DataFrame) -> dict[str, dict]:
    return {row["source"]: row for row in documents.to_dict("records")}


@pytest.fixture()
def raw_with_bad_text_files(tmp_path: Path) -> Path:
    raw = copy_memos(tmp_path / "raw")
    (raw / "zero.txt").write_bytes(b"")
    (raw / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (raw / "folder.pdf").mkdir()
    os.symlink(tmp_path / "missing-target.txt", raw / "dangling.txt")
    (raw / "slides.docx").write_bytes(b"PK\x03\x04 not a memo")
    return raw


def test_bad_text_files_fail_alone_with_plain_reasons(
    raw_with_bad_text_files: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, documents, units = ingest(raw_with_bad_text_files, tmp_path / "processed")
    assert code == 0
    rows = by_source(documents)
    assert rows["zero.txt"]["error"] == "empty file (0 bytes)"
    assert rows["binary.txt"]["error"] == "not a text file: it contains binary data"
    assert rows["folder.pdf"]["error"] == "is a folder, not a file"
    assert rows["dangling.txt"]["error"].startswith("broken link")
    assert rows["slides.docx"]["error"].startswith("not a readable Word file")
    errors = documents[documents["status"] == "error"]
    assert len(errors) == 5 and all("\n" not in e for e in errors["error"])
    good = documents[documents["status"] == "ok"]
    assert set(good["year"]) == {"2011", "2013"}
    assert len(units[units["doc_id"].isin(good["doc_id"])]) == len(units) > 100
    err = capsys.readouterr().err
    assert "error: zero.txt: empty file (0 bytes)" in err
    assert "Traceback" not in err


def test_strict_turns_failures_into_a_non_zero_exit(
    raw_with_bad_text_files: Path, tmp_path: Path
) -> None:
    code, documents, _ = ingest(raw_with_bad_text_files, tmp_path / "processed", "--strict")
    assert code == 1
    assert (documents["status"] == "ok").sum() == 2


def test_good_memos_come_through_identical_beside_bad_files(
    raw_with_bad_text_files: Path, tmp_path: Path
) -> None:
    clean_raw = copy_memos(tmp_path / "clean")
    _, _, clean_units = ingest(clean_raw, tmp_path / "p-clean")
    _, _, mixed_units = ingest(raw_with_bad_text_files, tmp_path / "p-mixed")
    pd.testing.assert_frame_equal(clean_units, mixed_units)


def test_unreadable_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = copy_memos(tmp_path / "raw")
    secret = raw / "secret.txt"
    secret.write_text("Some text. More text.", encoding="utf-8")
    secret.chmod(0)
    real_access = os.access
    # Root reads anything, so simulate what an ordinary user meets.
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != secret and real_access(p, mode))
    _, documents, _ = ingest(raw, tmp_path / "processed")
    assert by_source(documents)["secret.txt"]["error"] == "not readable: permission denied"


def test_size_and_time_limits_come_from_settings(tmp_path: Path, memo_2011: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy2(memo_2011, raw / "big.txt")
    config = tmp_path / "pipeline.toml"
    config.write_text("[ingest]\nmax_file_mb = 0.001\n", encoding="utf-8")
    _, documents, _ = ingest(raw, tmp_path / "p1", "--config", config)
    assert documents.loc[0, "error"].startswith("file too large: 0.0 MB (limit 0.001 MB")
    config.write_text("[ingest]\ndoc_timeout_s = 0.0005\n", encoding="utf-8")
    _, documents, _ = ingest(raw, tmp_path / "p2", "--config", config)
    assert documents.loc[0, "error"].startswith("took longer than 0.0005 s to read")


def test_latin1_and_utf16_are_decoded_and_recorded(tmp_path: Path, memo_2013: Path) -> None:
    text = memo_2013.read_text(encoding="utf-8")
    raw = tmp_path / "raw"
    raw.mkdir()
    latin = text.translate(str.maketrans({"’": "'", "“": '"', "”": '"', "–": "-", "—": "-"}))
    (raw / "latin.txt").write_bytes(latin.encode("latin-1"))
    (raw / "wide.txt").write_bytes(text.encode("utf-16"))
    (raw / "wide-le.txt").write_bytes(text.encode("utf-16-le"))
    _, documents, units = ingest(raw, tmp_path / "processed")
    rows = by_source(documents)
    assert rows["wide.txt"]["encoding"] == "utf-16"
    assert rows["wide-le.txt"]["encoding"] == "utf-16-le"
    assert rows["latin.txt"]["status"] == "ok" and rows["latin.txt"]["encoding"] != "utf-8"
    latin_text = " ".join(units[units["doc_id"] == rows["latin.txt"]["doc_id"]]["text"])
    assert "Alexander Chacón" in latin_text
    wide = units[units["doc_id"] == rows["wide.txt"]["doc_id"]]["text"].tolist()
    wide_le = units[units["doc_id"] == rows["wide-le.txt"]["doc_id"]]["text"].tolist()
    assert wide == wide_le and len(wide) == 38


def test_sidecar_and_manifest_override_the_text(tmp_path: Path) -> None:
    raw = copy_memos(tmp_path / "raw")
    name_2011 = next(p.name for p in raw.iterdir() if p.name.startswith("2011"))
    name_2013 = next(p.name for p in raw.iterdir() if p.name.startswith("2013"))
    (raw / f"{Path(name_2011).stem}.meta.toml").write_text(
        'venue = "Muscatine, Iowa"\nyear = 2010\n', encoding="utf-8"
    )
    (raw / "manifest.csv").write_text(
        f"source,conference,title\n{name_2013},Forty-fourth Conference,Given Title\n",
        encoding="utf-8",
    )
    _, documents, _ = ingest(raw, tmp_path / "processed")
    rows = by_source(documents)
    assert len(rows) == 2  # sidecars are not documents
    assert rows[name_2011]["venue"] == "Muscatine, Iowa" and rows[name_2011]["year"] == "2010"
    assert rows[name_2011]["doc_type"] == "Policy Memo"  # not overridden, still from the text
    assert rows[name_2013]["conference"] == "Forty-fourth Conference"
    assert rows[name_2013]["title"] == "Given Title"


def test_odd_file_names_get_unique_stable_ids(tmp_path: Path, memo_2013: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ["-leading dash.txt", "spaced name ünïcode.md", "same.txt", "same.md"]:
        shutil.copy2(memo_2013, raw / name)
    _, documents, units = ingest(raw, tmp_path / "processed")
    assert (documents["status"] == "ok").all()
    assert sorted(documents["doc_id"]) == [
        "leading-dash",
        "same-md",
        "same-txt",
        "spaced-name-unicode",
    ]
    assert set(units["doc_id"]) == set(documents["doc_id"])


def test_unchanged_inputs_skip_and_changed_inputs_rerun(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = copy_memos(tmp_path / "raw")
    processed = tmp_path / "processed"
    ingest(raw, processed)
    capsys.readouterr()
    ingest(raw, processed)
    assert "ingest: up to date" in capsys.readouterr().err
    (raw / "new.md").write_text("# New Memo\n\nStates should act.\n", encoding="utf-8")
    _, documents, _ = ingest(raw, processed)
    assert "new.md" in set(documents["source"])


def test_a_failed_write_leaves_the_previous_table_intact(tmp_path: Path) -> None:
    target = tmp_path / "table.csv"
    write_table(pd.DataFrame({"a": [1, 2]}), target)
    before = target.read_bytes()

    class Exploding(pd.DataFrame):
        def to_csv(self, path, **kwargs):  # type: ignore[override]
            Path(path).write_text("a\n1\n")  # half written, then the crash
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_table(Exploding({"a": [3]}), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]
