"""PDFs built from the two memos read back as the same units as the .txt memos."""

from __future__ import annotations

from difflib import SequenceMatcher
from pathlib import Path

import pytest

from pipeline.ingest.pdf import read_pdf
from pipeline.ingest.text import read_text_file
from pipeline.ingest.units import build_units
from pipeline.tableio import read_table
from tests.conftest import copy_memos, memo_paths, run_cli
from tools import synth_pdf

LAYOUTS = {"one-column": synth_pdf.build_one_column_pdf, "two-column": synth_pdf.build_two_column_pdf}


def unit_texts_from_txt(path: Path) -> list[str]:
    return [u.text for u in build_units(read_text_file(path).lines)]


def in_order_matches(expected: list[str], found: list[str]) -> int:
    """Units found with the same text in the same order (longest common subsequence)."""
    matcher = SequenceMatcher(a=expected, b=found, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks())


@pytest.mark.parametrize("layout", LAYOUTS)
def test_pdf_units_match_the_text_units(layout: str, tmp_path: Path) -> None:
    total = matched = 0
    for memo in memo_paths():
        pdf = tmp_path / f"{memo.stem}.pdf"
        hyphenation = LAYOUTS[layout](synth_pdf.memo_blocks(memo.read_text(encoding="utf-8")), pdf)
        assert len(hyphenation.log) >= 4  # words really were broken at line ends
        expected = unit_texts_from_txt(memo)
        found = [u.text for u in build_units(read_pdf(pdf).lines)]
        hits = in_order_matches(expected, found)
        # Per memo: at most one unit may differ (a compound the memo itself spells both
        # ways, e.g. "non-governmental" / "nongovernmental", broken at its hyphen).
        assert hits >= len(expected) - 1, (memo.name, hits, len(expected))
        total, matched = total + len(expected), matched + hits
    assert matched / total >= 0.98


def test_one_column_pdf_loses_its_page_furniture_and_keeps_real_hyphens(tmp_path: Path) -> None:
    memo = next(p for p in memo_paths() if p.name.startswith("2013"))
    pdf = tmp_path / "memo.pdf"
    synth_pdf.build_one_column_pdf(synth_pdf.memo_blocks(memo.read_text(encoding="utf-8")), pdf)
    extracted = read_pdf(pdf)
    units = build_units(extracted.lines)
    text = " ".join(u.text for u in units)
    assert extracted.n_pages >= 2 and extracted.removed_lines >= 2 * extracted.n_pages
    assert synth_pdf.HEADER not in text and "not for citation" not in text
    assert "inter-ministerial" in text and "Weapons of Mass Destruction" in text
    assert units[0].text == "Information Note¹"


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two memos, a PDF of one, and every kind of broken PDF."""
    raw = copy_memos(tmp_path_factory.mktemp("bad") / "raw")
    memo = next(p for p in memo_paths() if p.name.startswith("2011"))
    blocks = synth_pdf.memo_blocks(memo.read_text(encoding="utf-8"))
    synth_pdf.build_one_column_pdf(blocks, raw / "good copy.pdf")
    synth_pdf.write_truncated_pdf(raw / "good copy.pdf", raw / "truncated.pdf")
    synth_pdf.write_encrypted_pdf(blocks[:8], raw / "encrypted.pdf")
    synth_pdf.write_zero_byte(raw / "zero.pdf")
    synth_pdf.write_image_only_pdf(raw / "scan.pdf")
    synth_pdf.write_garbage_text_pdf(raw / "garbage.pdf")
    synth_pdf.write_empty_password_encrypted_pdf(blocks[:8], raw / "open-lock.pdf")
    (raw / "renamed.txt").write_bytes((raw / "good copy.pdf").read_bytes())  # a PDF named .txt
    return raw


@pytest.fixture(scope="module")
def bad_run(bad_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    processed = tmp_path_factory.mktemp("bad-processed")
    assert run_cli("ingest", "--raw", bad_folder, "--processed", processed) == 0
    documents = read_table(processed / "documents.csv")
    return {row["source"]: row for row in documents.to_dict("records")}, processed


def test_each_broken_pdf_has_its_reason(bad_run: tuple[dict, Path]) -> None:
    rows, _ = bad_run
    assert rows["encrypted.pdf"]["error"] == "encrypted PDF: a password is required to read it"
    assert rows["zero.pdf"]["error"] == "empty file (0 bytes)"
    assert rows["truncated.pdf"]["error"].startswith("not a readable PDF: the file is truncated or corrupt")
    assert rows["scan.pdf"]["error"].startswith("image-only PDF: no text layer")
    assert "OCR" in rows["scan.pdf"]["error"]
    assert rows["garbage.pdf"]["error"].startswith("PDF text layer is unreadable")
    for name in ["open-lock.pdf", "renamed.txt", "good copy.pdf"]:
        assert rows[name]["status"] == "ok", rows[name]["error"]
    assert rows["renamed.txt"]["format"] == "pdf"
    assert all("\n" not in row["error"] for row in rows.values())


def test_good_memos_beside_broken_pdfs_come_through_as_in_a_clean_run(
    bad_run: tuple[dict, Path], tmp_path: Path
) -> None:
    rows, processed = bad_run
    clean = tmp_path / "clean"
    assert run_cli("ingest", "--raw", copy_memos(tmp_path / "raw"), "--processed", clean) == 0
    clean_units = read_table(clean / "units.csv")
    units = read_table(processed / "units.csv")
    for doc_id in clean_units["doc_id"].unique():
        left = clean_units[clean_units["doc_id"] == doc_id].reset_index(drop=True)
        right = units[units["doc_id"] == doc_id].reset_index(drop=True)
        assert left.equals(right)
    pdf_units = units[units["doc_id"] == rows["good copy.pdf"]["doc_id"]]
    assert pdf_units["page"].astype(int).max() >= 2
    assert rows["good copy.pdf"]["year"] == "2011" and rows["good copy.pdf"]["n_pages"] not in {"", "0"}


def test_a_slow_pdf_is_abandoned_at_the_time_limit(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    memo = next(p for p in memo_paths() if p.name.startswith("2011"))
    # eight copies of the memo: reading them takes seconds here, a hundred times the limit
    blocks = synth_pdf.memo_blocks(memo.read_text(encoding="utf-8")) * 8
    synth_pdf.build_two_column_pdf(blocks, raw / "slow.pdf")
    config = tmp_path / "pipeline.toml"
    config.write_text("[ingest]\ndoc_timeout_s = 0.05\n", encoding="utf-8")
    assert (
        run_cli("ingest", "--raw", raw, "--processed", tmp_path / "p", "--config", config, "--jobs", "1") == 0
    )
    row = read_table(tmp_path / "p" / "documents.csv").iloc[0]
    assert row["error"] == "took longer than 0.05 s to read (setting ingest.doc_timeout_s)"
