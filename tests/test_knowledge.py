"""pipeline.knowledge: every knowledge file is found in the user's data_dir first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import knowledge
from pipeline.analyze.terms import load_word_list
from pipeline.config import Context, load_settings


@pytest.fixture
def user_data(tmp_path: Path) -> Iterator[Path]:
    """A data folder holding one extended word list, in force through a Context."""
    folder = tmp_path / "my-knowledge"
    folder.mkdir()
    packaged = (knowledge.PACKAGE_DATA / "theme_stopwords.txt").read_text(encoding="utf-8")
    extended = packaged + "\nzanzibar  # a word of the user's\n"
    (folder / "theme_stopwords.txt").write_text(extended, encoding="utf-8")
    Context(settings=load_settings(extract={"data_dir": str(folder)}))
    yield folder
    Context(settings=load_settings())  # back to the packaged files


def test_a_file_in_the_data_dir_wins_and_the_others_come_from_the_package(user_data: Path) -> None:
    assert knowledge.data_path("theme_stopwords.txt") == user_data / "theme_stopwords.txt"
    assert knowledge.data_path("concepts.txt") == knowledge.PACKAGE_DATA / "concepts.txt"
    assert "zanzibar" in load_word_list("theme_stopwords.txt")


def test_the_fingerprint_follows_the_files_in_use(user_data: Path) -> None:
    names = ["theme_stopwords.txt", "concepts.txt"]
    theirs = knowledge.fingerprint(names)
    assert theirs == knowledge.fingerprint(names, user_data)
    assert theirs != knowledge.fingerprint(names, knowledge.PACKAGE_DATA)
    knowledge.use_data_dir(None)
    assert knowledge.data_path("theme_stopwords.txt") == knowledge.PACKAGE_DATA / "theme_stopwords.txt"
    assert "zanzibar" not in load_word_list("theme_stopwords.txt")
