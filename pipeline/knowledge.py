"""Where every knowledge file is found: the user's data folder first, then the package.

What the pipeline knows (gazetteers, cue words, layout rules, word lists, the thesaurus,
the default settings) is data in ``pipeline/data``. A user keeps extended copies in a
folder of their own, named by the ``[extract] data_dir`` setting; a file missing there is
taken from the package (a folder holding only an extended organizations.csv is enough).
Every loader in the pipeline opens its file through :func:`data_path`, so the setting
applies to all of them, and :func:`fingerprint` hashes exactly the files in use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

PACKAGE_DATA = Path(str(resources.files("pipeline") / "data"))
_user_folder: Path | None = None  # the data_dir in force in this process (``use_data_dir``)


def use_data_dir(folder: str | Path | None) -> None:
    """Make ``folder`` (empty or None: none) the user's data folder for this process and
    the worker processes it forks; a Context does this with its settings."""
    global _user_folder
    _user_folder = Path(folder) if folder else None


def data_dir_setting(settings: object) -> str:
    """The ``[extract] data_dir`` value of a Settings (empty when unset)."""
    try:
        return str(settings["extract"].get("data_dir", "") or "")  # type: ignore[index]
    except (KeyError, TypeError):
        return ""


def data_path(name: str, folder: str | Path | None = None) -> Path:
    """The file ``name`` in ``folder`` (default: the data folder in force), or the
    packaged one when that folder does not have it."""
    chosen = Path(folder) if folder else _user_folder
    if chosen is not None:
        candidate = chosen / name
        if candidate.is_file():
            return candidate
    return PACKAGE_DATA / name


def fingerprint(names: Iterable[str], folder: str | Path | None = None) -> str:
    """Hash of the named knowledge files as they would be read, so that editing one
    invalidates exactly the results it could change."""
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode())
        digest.update(data_path(name, folder).read_bytes())
    return digest.hexdigest()[:16]
