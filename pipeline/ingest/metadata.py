"""Document metadata found in the text (title, type, date, year, conference, venue).

Reads labelled memo fields ("DATE:", "Date and Venue:", "SUBJECT:"), a document-type line
near the top, "the 42nd annual ... Conference" phrases and "held in <place>" clauses. A
sidecar ``<name>.meta.toml`` or ``manifest.csv`` in the raw folder overrides any value.
"""

from __future__ import annotations

import csv
import re
import tomllib
from datetime import date
from pathlib import Path

from pipeline.ingest.layout import Unit
from pipeline.ingest.units import LayoutRules, load_rules

FIELDS = ("title", "doc_type", "date", "year", "conference", "venue")
HEAD_UNITS = 25  # metadata lives in the first units of a memo

_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for m in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DASH = r"\s*[-–—]\s*"
_DATE_PATTERNS = [
    # March 1, 2011 / February 25–27, 2011
    re.compile(
        rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:{_DASH}(?P<day2>\d{{1,2}}))?,?\s+(?P<year>(?:19|20)\d\d)\b",
        re.I,
    ),
    # 1 March 2011 / 21-23 February 2013
    re.compile(
        rf"\b(?P<day>\d{{1,2}})(?:{_DASH}(?P<day2>\d{{1,2}}))?\s+{_MONTH}\s+(?P<year>(?:19|20)\d\d)\b",
        re.I,
    ),
    # 2011-03-01
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<mnum>\d{2})-(?P<day>\d{2})\b"),
    # March 2011
    re.compile(rf"\b{_MONTH}\s+(?P<year>(?:19|20)\d\d)\b", re.I),
]
_CONFERENCE = re.compile(
    r"\b(?P<ordinal>\d{1,3}(?:st|nd|rd|th))\s+(?:annual\s+)?"
    r"(?P<name>(?:[A-Z][\w.&'’-]*\s+){0,6}?(?:Conference|Forum|Summit|Workshop|Seminar|Symposium|Dialogue|Meeting))\b"
)
_HELD_IN = re.compile(
    r"\bheld (?:in|at) (?P<place>[A-Z][\w.'’-]*(?:(?:\s|,\s)[A-Z][\w.'’-]*){0,4})"
)
_FILE_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)(?:[-_.](\d{2}))?(?:[-_.](\d{2}))?(?!\d)")


def parse_dates(text: str) -> list[tuple[date | None, int, int | None]]:
    """All dates in ``text`` as (full date or None, year, second day of a range)."""
    found = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            groups = match.groupdict()
            year = int(groups["year"])
            month = _MONTHS.get((groups.get("month") or "").lower().rstrip(".")) or (
                int(groups["mnum"]) if groups.get("mnum") else None
            )
            day = int(groups["day"]) if groups.get("day") else None
            full = None
            if month and day:
                try:
                    full = date(year, month, day)
                except ValueError:
                    full = None
            day2 = int(groups["day2"]) if groups.get("day2") else None
            found.append((match.start(), full, year, day2))
        if found:
            break
    return [(full, year, day2) for _, full, year, day2 in sorted(found, key=lambda f: f[0])]


def _field_values(units: list[Unit], rules: LayoutRules) -> dict[str, str]:
    """Labelled fields among the first units, keyed by the label's role."""
    roles: dict[str, str] = {}
    fields = rules.raw["fields"]
    for unit in units[:HEAD_UNITS]:
        match = re.match(r"^([A-Za-z][A-Za-z() ]{0,30}?)\s*:\s*(.+)$", unit.text)
        if not match:
            continue
        label = re.sub(r"\(s\)$", "", match.group(1).strip().lower())
        for role, labels in fields.items():
            if label in labels and role not in roles:
                roles[role] = match.group(2).strip()
    return roles


def _doc_type(units: list[Unit], rules: LayoutRules) -> str:
    meta = rules.raw["metadata"]
    known = {t.lower(): t for t in meta["doc_types"]}
    heads = set(meta["doc_type_heads"])
    for unit in units[:HEAD_UNITS]:
        text = re.sub(r"[¹²³⁴⁵⁶⁷⁸⁹⁰*]+$", "", unit.text).strip()
        if text.lower() in known:
            return known[text.lower()]
        words = text.split()
        if (
            unit.kind == "heading"
            and 2 <= len(words) <= 3
            and words[-1].lower() in heads
            and all(w[:1].isupper() for w in words)
        ):
            return text
    return ""


def _conference(text: str, rules: LayoutRules) -> str:
    match = _CONFERENCE.search(text)
    if not match:
        return ""
    name = match.group("name")
    for long, short in rules.raw["metadata"]["conference_aliases"].items():
        name = name.replace(long, short)
    name = re.sub(r"^(?:The|the)\s+", "", name)
    return f"{match.group('ordinal')} {name}"


def _strip_dates(value: str) -> str:
    for pattern in _DATE_PATTERNS:
        value = pattern.sub("", value)
    return value.strip(" ,;–-")


def _cut_at_month(place: str) -> str:
    """ "Tarrytown, New York, February" -> "Tarrytown, New York"."""
    kept = []
    for part in re.split(r"(,\s*|\s+)", place):
        if part.strip(" ,").lower().rstrip(".") in _MONTHS:
            break
        kept.append(part)
    return "".join(kept).strip(" ,")


def with_file_year(meta: dict[str, str], source_name: str) -> dict[str, str]:
    """``meta`` with the file name's year where the text gave none. Kept apart from
    ``text_metadata`` so that what the text says can be cached with the text."""
    if meta["year"]:
        return meta
    file_date = _FILE_DATE.search(source_name)
    return {**meta, "year": file_date.group(1) if file_date else ""}


def text_metadata(units: list[Unit]) -> dict[str, str]:
    """What the units themselves say of the memo: type, title, date, year, conference, venue."""
    rules = load_rules()
    head = units[:HEAD_UNITS]
    head_text = "\n".join(u.text for u in head)
    body_text = "\n".join(u.text for u in units)
    fields = _field_values(units, rules)
    meta = dict.fromkeys(FIELDS, "")
    meta["doc_type"] = _doc_type(units, rules)
    meta["title"] = fields.get("title", "")
    if not meta["title"]:
        headings = [u.text for u in head if u.kind == "heading" and u.text != meta["doc_type"]]
        meta["title"] = next((h for h in headings if len(h.split()) >= 3), "")

    dated = parse_dates(fields.get("date", ""))
    if dated and dated[0][0]:
        meta["date"] = dated[0][0].isoformat()
    event_dates = parse_dates(fields.get("date_and_venue", "")) or parse_dates(head_text)
    year = dated[0][1] if dated else (event_dates[0][1] if event_dates else None)
    meta["year"] = str(year) if year else ""

    meta["conference"] = _conference(head_text, rules) or _conference(body_text, rules)
    venue = fields.get("venue") or _strip_dates(fields.get("date_and_venue", ""))
    if not venue:
        held = _HELD_IN.search(body_text)
        venue = _cut_at_month(held.group("place")) if held else ""
    meta["venue"] = venue
    return meta


def read_sidecars(raw_dir: Path) -> dict[str, dict[str, str]]:
    """User-given metadata: ``manifest.csv`` rows, then ``<name>.meta.toml`` files."""
    given: dict[str, dict[str, str]] = {}
    manifest = raw_dir / "manifest.csv"
    if manifest.is_file():
        with manifest.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                source = (row.get("source") or "").strip()
                if source:
                    given[source] = {k: str(v).strip() for k, v in row.items() if k in FIELDS and v}
    for sidecar in sorted(raw_dir.rglob("*.meta.toml")):
        values = tomllib.loads(sidecar.read_text(encoding="utf-8"))
        name = sidecar.name[: -len(".meta.toml")]
        relative = str(sidecar.parent.relative_to(raw_dir) / name).removeprefix("./")
        given.setdefault(relative, {}).update({k: str(v) for k, v in values.items() if k in FIELDS})
    return given


def sidecar_for(source: str, sidecars: dict[str, dict[str, str]]) -> dict[str, str]:
    """Sidecar values for a file, matched by its name with or without the extension."""
    stem = source.rsplit(".", 1)[0]
    return {**sidecars.get(stem, {}), **sidecars.get(source, {})}
