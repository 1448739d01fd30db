"""The project's knowledge files, loaded into plain tables the extract stage matches against.

Users extend the CSV and TOML files in ``pipeline/data`` (or a folder named by the
``extract.data_dir`` setting); nothing here holds a name of its own. Every entry becomes
exact, case-sensitive phrase patterns, so "Turkey" is a country and "turkey" is not.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from pipeline import knowledge
from pipeline.knowledge import PACKAGE_DATA as DATA_DIR

KNOWLEDGE_FILES = (
    "organizations.csv",
    "countries.csv",
    "regions.csv",
    "entity_rules.toml",
    "recommendation_cues.toml",
    "recommendation_model.json",
)
# "Name (ACR)"; a year in parentheses ("resolution 1874 (2009)") is part of the name
ACRONYM_IN_NAME = re.compile(r"^(?P<name>.+?)\s*\((?P<acronym>[^()]*[A-Za-z][^()]*)\)$")
APOSTROPHES = ("'", "\u2019")
ORGANIZATION = "organization"  # the ``kind`` of a body; programmes, regimes, treaties differ


@dataclass(frozen=True)
class Entry:
    """One phrase to look for and what it resolves to."""

    phrase: str
    label: str  # ORG | COUNTRY | REGION | PLACE (a blocker: matched, then ignored)
    canonical: str
    iso3: str = ""
    is_code: bool = False  # acronyms and codes: not matched inside all-capitals text


@dataclass(frozen=True)
class Knowledge:
    """Everything the extract stage knows, read from one data folder."""

    entries: tuple[Entry, ...]
    org_names: dict[str, str]  # any lower-cased name, acronym or alias -> canonical
    org_kinds: dict[str, str]  # canonical -> organization | programme | regime | ...
    region_names: dict[str, str]
    country_names: dict[str, str]  # lower-cased name -> iso3
    country_canonical: dict[str, str]  # iso3 -> UN name
    rules: dict = field(default_factory=dict)
    cues: dict = field(default_factory=dict)
    fingerprint: str = ""


def resolve_data_dir(setting: str | Path | None) -> Path:
    """The folder of knowledge files: the ``extract.data_dir`` setting, else the packaged one."""
    return Path(setting) if setting else DATA_DIR


def knowledge_file(folder: Path, name: str) -> Path:
    """``name`` in the user's folder, or the packaged one when the folder does not have it
    (a folder holding only an extended organizations.csv is enough)."""
    return knowledge.data_path(name, folder)


def split_aliases(cell: str) -> list[str]:
    return [alias.strip() for alias in str(cell or "").split("|") if alias.strip()]


def name_parts(canonical: str) -> tuple[str, str]:
    """("International Atomic Energy Agency", "IAEA") from "... Agency (IAEA)"."""
    match = ACRONYM_IN_NAME.match(canonical.strip())
    if match:
        return match["name"].strip(), match["acronym"].strip()
    return canonical.strip(), ""


def looks_like_code(phrase: str) -> bool:
    """An acronym or code ("IAEA", "U.S.", "G8"): no lower-case letters, short."""
    letters = [c for c in phrase if c.isalpha()]
    return bool(letters) and not any(c.islower() for c in letters) and len(phrase) <= 10


def spelling_variants(phrase: str) -> list[str]:
    """The phrase with either apostrophe, since memos mix ' and ’."""
    variants = [phrase]
    for a, b in (APOSTROPHES, APOSTROPHES[::-1]):
        if a in phrase:
            variants.append(phrase.replace(a, b))
    return variants


def governing_head(words: list[str], rules: dict, anywhere: bool = False) -> str | None:
    """The organization word of a title-case name: one that ends the name or governs the rest
    ("Stimson Center", "National University of Malaysia"), or with ``anywhere`` any of them
    ("Bank Negara Malaysia", for a long form its acronym vouches for). None when the words do
    not read as a name: not title case, fewer than two words, or generic words alone."""
    org = rules.get("org", {})
    heads, connectors = set(org.get("head_words", [])), set(org.get("connectors", []))
    generic = {w.lower() for w in org.get("generic_words", [])}
    if len(words) < 2 or " ".join(words).lower() in generic:
        return None
    if not all(w[:1].isupper() or w in connectors or w[:1].isdigit() or not w[:1].isalnum() for w in words):
        return None
    last = len(words) - 1
    return next(
        (
            w
            for i, w in enumerate(words)
            if w in heads and (anywhere or i == last or words[i + 1] in connectors)
        ),
        None,
    )


def reads_as_org_name(words: list[str], rules: dict) -> bool:
    return governing_head(words, rules) is not None


def org_kind(head: str | None, rules: dict) -> str:
    """What a name governed by ``head`` stands for ("Programme": a programme); an
    organization unless entity_rules.toml says otherwise."""
    return rules.get("kinds", {}).get("head_words", {}).get(head or "", ORGANIZATION)


def title_cased(words: list[str], rules: dict) -> bool:
    """Every word capitalised but the connectors ("Export Programs Show Progress"): a title,
    where capitals do not mark names."""
    connectors = set(rules.get("org", {}).get("connectors", []))
    content = [w for w in words if w[:1].isalpha() and w not in connectors]
    return bool(content) and all(w[:1].isupper() for w in content)


def from_capitals(phrase: str, rules: dict) -> str:
    """A phrase in capitals in title case ("EAST AFRICA INSTITUTE FOR TRADE" -> "East Africa
    Institute for Trade"); other phrases as they are."""
    if any(c.islower() for c in phrase):
        return phrase
    connectors = set(rules.get("org", {}).get("connectors", []))
    return " ".join(w.lower() if w.lower() in connectors else w.capitalize() for w in phrase.split())


def strip_article(phrase: str) -> str:
    return phrase[4:] if phrase.lower().startswith("the ") else phrase


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def _organization_entries(
    table: pd.DataFrame, rules: dict
) -> tuple[list[Entry], dict[str, str], dict[str, str]]:
    entries, names, kinds = [], {}, {}
    kind_of_type = rules.get("kinds", {}).get("types", {})
    for row in table.itertuples(index=False):
        canonical = row.canonical.strip()
        kinds[canonical] = kind_of_type.get(str(getattr(row, "type", "")).strip(), ORGANIZATION)
        full, acronym_in_name = name_parts(canonical)
        acronym = (row.acronym or acronym_in_name).strip()
        phrases = [full, *split_aliases(row.aliases)]
        if acronym:
            phrases.append(acronym)
        for phrase in phrases:
            phrase = strip_article(phrase)
            names[phrase.lower()] = canonical
            for variant in spelling_variants(phrase):
                entries.append(Entry(variant, "ORG", canonical, is_code=looks_like_code(variant)))
        names[canonical.lower()] = canonical
    return entries, names, kinds


def _country_entries(table: pd.DataFrame) -> tuple[list[Entry], dict[str, str], dict[str, str]]:
    entries, names, canonical_names = [], {}, {}
    for row in table.itertuples(index=False):
        iso3, canonical = row.iso3.strip().upper(), row.canonical.strip()
        canonical_names[iso3] = canonical
        for phrase in [canonical, *split_aliases(row.aliases)]:
            phrase = strip_article(phrase)
            names[phrase.lower()] = iso3
            for variant in spelling_variants(phrase):
                entries.append(Entry(variant, "COUNTRY", canonical, iso3, looks_like_code(variant)))
    return entries, names, canonical_names


def _region_entries(table: pd.DataFrame) -> tuple[list[Entry], dict[str, str]]:
    entries, names = [], {}
    for row in table.itertuples(index=False):
        canonical = row.canonical.strip()
        for phrase in [canonical, *split_aliases(row.aliases)]:
            phrase = strip_article(phrase)
            names[phrase.lower()] = canonical
            for variant in spelling_variants(phrase):
                entries.append(Entry(variant, "REGION", canonical, is_code=looks_like_code(variant)))
    return entries, names


def data_fingerprint(data_dir: Path) -> str:
    """Hash of the knowledge files, so editing one invalidates cached results."""
    return knowledge.fingerprint(KNOWLEDGE_FILES, data_dir)


@lru_cache(maxsize=4)
def load_knowledge(data_dir: str | Path | None = None) -> Knowledge:
    """Read (once per process and folder) the gazetteers, entity rules and recommendation cues."""
    folder = resolve_data_dir(data_dir)
    rules = tomllib.loads(knowledge_file(folder, "entity_rules.toml").read_text(encoding="utf-8"))
    org_entries, org_names, org_kinds = _organization_entries(
        _read_csv(knowledge_file(folder, "organizations.csv")), rules
    )
    country_entries, country_names, country_canonical = _country_entries(
        _read_csv(knowledge_file(folder, "countries.csv"))
    )
    region_entries, region_names = _region_entries(_read_csv(knowledge_file(folder, "regions.csv")))
    cues = tomllib.loads(knowledge_file(folder, "recommendation_cues.toml").read_text(encoding="utf-8"))
    blockers = [
        Entry(variant, "PLACE", place)
        for place in rules.get("places", {}).get("not_countries", [])
        for variant in spelling_variants(place)
    ]
    return Knowledge(
        entries=tuple(org_entries + country_entries + region_entries + blockers),
        org_names=org_names,
        org_kinds=org_kinds,
        region_names=region_names,
        country_names=country_names,
        country_canonical=country_canonical,
        rules=rules,
        cues=cues,
        fingerprint=data_fingerprint(folder),
    )
