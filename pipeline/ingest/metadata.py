"""Document metadata found in the text: title, type, date, year, conference, edition,
series, venue, organizer, and where each value came from (``meta_source``).

Sources, most trusted first: labelled memo fields ("DATE:", "Event:", "Date and Venue:"),
datelines ("NEW YORK, 17 October 2011 —"), the title block and first headings, "held in
<place>" and "organized by" sentences, then what the file format states (HTML ``<title>``
and ``<meta>``, docx core properties) and the file name. The year is the document's own
date's year, then the meeting's, never merely the first year the text cites. A sidecar
``<name>.meta.toml`` or ``manifest.csv`` in the raw folder overrides any value.
"""

from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from pipeline.ingest.layout import Unit
from pipeline.ingest.units import LayoutRules, load_rules

FIELDS = ("title", "doc_type", "date", "year", "conference", "edition", "series", "venue", "organizer")
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
_HELD_IN = re.compile(r"\bheld (?:in|at) (?P<place>[A-Z][\w.'’-]*(?:(?:\s|,\s)[A-Z][\w.'’-]*){0,4})")
_ORGANIZED_BY = re.compile(
    r"\b(?:organi[sz]ed|convened|hosted)\s+by\s+(?:the\s+)?(?P<who>[A-Z][^,;.()]*?(?:\s\([A-Z][\w-]*\))?)"
    r"(?=\s+(?:with|together|in\s+(?:cooperation|partnership|collaboration)|on\s+behalf)\b|[,;.(]|$)"
)
_FILE_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)(?:[-_.](\d{2}))?(?:[-_.](\d{2}))?(?!\d)")
_BARE_YEAR = re.compile(r"(?<![\d(/-])((?:19|20)\d\d)(?![\d)/-])")
_LABEL_LINE = re.compile(r"^([A-Za-z][A-Za-z() ]{0,30}?)\s*:\s*(.+)$")
_TERMINAL = re.compile(r"[.!?;:,][\"”’')\]]*$")
_QUOTED = re.compile(r"^[\"“‘'](?P<inner>.+?)[\"”’']$")

_ONES = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"]
_TEENS = ["tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
          "seventeenth", "eighteenth", "nineteenth"]  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}  # fmt: skip
ORDINAL_WORDS: dict[str, int] = {w: i for i, w in enumerate(_ONES, start=1)}
ORDINAL_WORDS.update({w: i for i, w in enumerate(_TEENS, start=10)})
for _tens_word, _tens in _TENS.items():
    ORDINAL_WORDS[_tens_word[:-1] + "ieth"] = _tens
    for _unit, _unit_word in enumerate(_ONES, start=1):
        ORDINAL_WORDS[f"{_tens_word}-{_unit_word}"] = _tens + _unit
_SMALL = r"(?:and|of|the|for|in|on|to|&)"


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


@lru_cache(maxsize=4)
def _conference_pattern(nouns: tuple[str, ...]) -> re.Pattern[str]:
    """An edition of a recurring meeting: an ordinal, "Annual", a capitalised name ending in
    an event noun, and a capitalised topic after "on/of/for" ("on Resolution 1540 and ...")."""
    ordinal_words = "|".join(sorted(ORDINAL_WORDS, key=len, reverse=True))
    noun = "|".join(re.escape(n) for n in sorted(nouns, key=len, reverse=True))
    word = r"[A-Z0-9][\w.&'’/-]*"
    return re.compile(
        rf"(?<![\w-])(?P<ordinal>(?i:\d{{1,3}}(?:st|nd|rd|th)|{ordinal_words}))\s+"
        rf"(?P<annual>(?i:annual)\s+)?"
        rf"(?P<name>(?:(?:{word}|of|the|for|&)\s+){{0,6}}?(?:{noun}))\b"
        rf"(?P<topic>\s+(?:on|of|for)(?:\s+(?:{word}|{_SMALL})(?![\w-])){{1,12}})?"
        r"(?P<theme>\s*:)?"
    )


def ordinal_value(text: str) -> int | None:
    """42 for "42nd", 2 for "Second", 21 for "Twenty-first"."""
    text = text.lower()
    digits = re.match(r"(\d+)", text)
    return int(digits.group(1)) if digits else ORDINAL_WORDS.get(text)


def _ordinal_text(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


@dataclass
class Conference:
    name: str  # "2nd Annual Andean Forum on Export Controls ..."
    edition: int
    series: str  # the name without its edition and "Annual": what recurs from year to year


def find_conference(text: str, rules: LayoutRules) -> Conference | None:
    """The first edition of a recurring meeting named in ``text`` (all-caps lines read as
    title case), with its edition number and series name."""
    nouns = tuple(rules.raw["metadata"]["event_nouns"])
    for line in text.split("\n"):
        letters = [c for c in line if c.isalpha()]
        if letters and sum(c.isupper() for c in letters) > 0.8 * len(letters):
            line = re.sub(r"[A-Za-z][A-Za-z'’]*", lambda m: m.group(0).capitalize(), line)
            line = re.sub(r"\b(And|Of|The|For|In|On|To)\b", lambda m: m.group(0).lower(), line)
        match = _conference_pattern(nouns).search(line)
        if match:
            return _conference_from(match, rules)
    return None


def _conference_from(match: re.Match[str], rules: LayoutRules) -> Conference:
    edition = ordinal_value(match.group("ordinal")) or 0
    name = re.sub(r"^(?:The|the)\s+", "", match.group("name"))
    # "Conference on <theme>: <subtitle>" names one edition's theme, not the series
    topic = "" if match.group("theme") else re.sub(rf"(?:\s+{_SMALL})+$", "", match.group("topic") or "")
    for long, short in rules.raw["metadata"]["conference_aliases"].items():
        name, topic = name.replace(long, short), topic.replace(long, short)
    # "Annual" is part of the name when written so ("Fifth Annual X Dialogue"), a description
    # when not ("the 42nd annual X Conference")
    annual = "Annual " if (match.group("annual") or "").startswith("A") else ""
    series = f"{name.strip()}{topic}"
    return Conference(f"{_ordinal_text(edition)} {annual}{series}", edition, series)


def _field_values(units: list[Unit], rules: LayoutRules) -> dict[str, str]:
    """Labelled fields among the first units, keyed by the label's role."""
    roles: dict[str, str] = {}
    fields = rules.raw["fields"]
    for unit in units[:HEAD_UNITS]:
        match = _LABEL_LINE.match(unit.text)
        if not match:
            continue
        label = re.sub(r"\(s\)$", "", match.group(1).strip().lower())
        for role, labels in fields.items():
            if label in labels and role not in roles:
                roles[role] = match.group(2).strip()
    return roles


def _is_field_line(text: str, rules: LayoutRules) -> bool:
    """ "Date: 3 May 2014" is a field; "Beyond the Report: Resolution 1540" is a title."""
    match = _LABEL_LINE.match(text)
    return match is not None and re.sub(r"\(s\)$", "", match.group(1).strip().lower()) in rules.field_labels


_STATEMENT_BY = re.compile(r"^(?:joint\s+)?statement\s+(?:by|of|from)\s+(?P<who>.{3,120})$", re.IGNORECASE)
_COVERS = re.compile(r"^(?P<head>[A-Za-z]+)\s+of\s+(?:the\s+|an?\s+)?(?P<what>[A-Za-z' -]{3,60})$")


def _clean_type(text: str) -> str:
    """ "ISSUE BRIEF No. 7 | March 2021" -> "ISSUE BRIEF"."""
    text = re.sub(r"[¹²³⁴⁵⁶⁷⁸⁹⁰*]+$", "", text).strip()
    text = re.split(r"\s*[|•·]\s*|\s+No\.?\s*\d|\s+(?=[A-Z]*[/.-]?\d)", text)[0]
    return text.strip(" *_")


def _doc_type(units: list[Unit], rules: LayoutRules) -> str:
    meta = rules.raw["metadata"]
    known = {t.lower(): t for t in meta["doc_types"]}
    heads = set(meta["doc_type_heads"])
    for unit in units[:HEAD_UNITS]:
        if unit.kind not in {"heading", "boilerplate"} and len(unit.text.split()) > 8:
            continue
        text = _clean_type(unit.text)
        if text.lower() in known:
            return known[text.lower()]
        described = _described_type(text, meta)
        if described:
            return described
        words = text.split()
        if (
            2 <= len(words) <= 3
            and words[-1].lower() in heads
            and words[0][:1].isupper()
            and (unit.kind == "heading" or text != unit.text)
            and not _is_field_line(text, rules)
        ):
            return " ".join(
                w if w.isupper() and len(w) <= 3 and text != text.upper() else w.capitalize() for w in words
            )
    return ""


def _described_type(text: str, meta: dict) -> str:
    """The type a line names in other words: an alias ("OPINION"), what a summary or report
    covers ("Report of the panel debate" -> "Panel Report"), who makes a statement
    ("Statement by the Minister of X" -> "Government Statement"); else ""."""
    aliases = {alias.lower(): kind for alias, kind in meta.get("doc_type_aliases", {}).items()}
    if text.lower() in aliases:
        return aliases[text.lower()]
    statement = _STATEMENT_BY.match(text)
    if statement:
        speaker = statement.group("who").lower()
        official = any(
            re.search(rf"\b{re.escape(w)}\b", speaker) for w in meta.get("government_speakers", [])
        )
        return "Government Statement" if official else "Statement"
    covers = _COVERS.match(text)
    if covers is None or covers.group("head").lower() not in meta["doc_type_heads"]:
        return ""
    head = covers.group("head").capitalize()
    events = {noun.lower(): noun for noun in meta["event_nouns"]}
    *kind, noun = covers.group("what").lower().split()
    if noun in events:
        return f"{events[noun]} {head}"
    if noun not in meta.get("discussion_nouns", []):
        return ""
    if not kind:
        return f"Meeting {head}"
    if kind[-1] in events:
        return f"{events[kind[-1]]} {head}"
    return f"{kind[-1].capitalize()} {head}" if kind[-1] in meta.get("covered_kinds", []) else ""


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


def _date_text(found: tuple[date | None, int, int | None], month: int | None) -> str:
    full, year, _ = found
    if full:
        return full.isoformat()
    return f"{year}-{month:02d}" if month else ""


def _single_date(text: str) -> tuple[str, int] | None:
    """(ISO date or year-month, year) when ``text`` states one date (not a range of days)."""
    for pattern in _DATE_PATTERNS:
        match = pattern.search(text)
        if not match:
            continue
        groups = match.groupdict()
        if groups.get("day2"):
            return None
        month = _MONTHS.get((groups.get("month") or "").lower().rstrip(".")) or (
            int(groups["mnum"]) if groups.get("mnum") else None
        )
        found = parse_dates(match.group(0))
        return (_date_text(found[0], month), found[0][1]) if found else None
    return None


def _dateline(text: str) -> tuple[str, str, int] | None:
    """ "NAIROBI, 3 May 2021 — Forty customs officers ...": (place, date, year)."""
    match = re.match(
        r"^(?P<place>[A-Z][\w'’.-]*(?:[ ,]+[A-Z][\w'’.-]*){0,4}),\s+(?P<rest>.{6,40}?)\s*[—–-]\s", text
    )
    if not match:
        return None
    single = _single_date(match.group("rest"))
    if not single or not single[0]:
        return None
    place = match.group("place")
    return (place.title() if place.isupper() else place), single[0], single[1]


def _is_title_line(unit: Unit, rules: LayoutRules, doc_type: str) -> bool:
    text = unit.text.strip()
    words = text.split()
    if unit.kind == "boilerplate" or len(words) < 3 or len(words) > 30 or _is_field_line(text, rules):
        return False
    if unit.kind != "heading" and _TERMINAL.search(text):
        return False
    if doc_type and _clean_type(text).lower() == doc_type.lower():
        return False
    if re.match(r"^(?:\d{1,2}(?:\.\d{1,2})*[.)]?|[IVX]{1,4}\.)\s", text):
        return False  # a numbered section heading
    if any(re.search(p, text) for p in rules.raw["metadata"]["title_skip"]):
        return False
    if text.count(" | ") >= 2:
        return False  # a table row
    if sum(_wordlike(w) for w in words) < 0.8 * len(words):
        return False  # OCR noise or a code, not a title
    # a line that is mostly a place and a date ("Geneva, 3–4 June 2021")
    return not (parse_dates(text) and len(_strip_dates(text).split()) <= 6)


def _wordlike(token: str) -> bool:
    """Mostly letters ("Chair's", "UN-EU", "A") or a number ("1540", "(2004)")."""
    letters = sum(c.isalpha() for c in token)
    return letters >= 0.5 * len(token) if letters else bool(re.fullmatch(r"\W*\d[\d.,/-]*\W*", token))


def _title(units: list[Unit], rules: LayoutRules, doc_type: str) -> tuple[str, str]:
    """The first title-like line near the top; a second line of the same title block that
    is not a place or date joins it as a subtitle; a quoted theme under a meeting's name wins."""
    head = units[:HEAD_UNITS]
    for i, unit in enumerate(head):
        running = unit.kind in {"sentence", "list_item"} and any(
            u.block == unit.block and u is not unit for u in head
        )
        if running or unit.kind == "list_item" or _is_field_line(unit.text, rules):
            return "", ""  # running text, a list or the header fields reached: no title above them
        if not _is_title_line(unit, rules, doc_type):
            continue
        following = [u for u in head[i + 1 :] if u.block == unit.block]
        quoted = _QUOTED.match(following[0].text.strip()) if following else None
        if quoted and find_conference(unit.text, rules):
            return quoted.group("inner"), "title block"
        if (
            following
            and _is_title_line(following[0], rules, doc_type)
            and not _QUOTED.match(following[0].text)
        ):
            return f"{unit.text.rstrip(':')}: {following[0].text}", "title block"
        return unit.text, "heading" if unit.kind == "heading" else "title block"
    return "", ""


def _property_title(properties: dict[str, str]) -> str:
    """A page or file title without its site name ("Memo on X | Institute" -> "Memo on X")."""
    title = properties.get("title", "")
    parts = [p for p in re.split(r"\s+[|–—·»]\s+|\s+-\s+", title) if p.strip()]
    best = max(parts, key=lambda p: len(p.split()), default="")
    if re.match(r"(?i)^(?:microsoft word|untitled|document\d*)\b", best) or len(best.split()) < 2:
        return ""
    return best.strip()


def with_file_year(meta: dict[str, str], source_name: str) -> dict[str, str]:
    """``meta`` with the file name's year where the text gave none. Kept apart from
    ``text_metadata`` so that what the text says can be cached with the text."""
    if meta["year"]:
        return meta
    file_date = _FILE_DATE.search(source_name)
    if not file_date:
        return meta
    return {**meta, "year": file_date.group(1), "meta_source": add_source(meta, "year", "file name")}


def add_source(meta: dict[str, str], name: str, source: str) -> str:
    """``meta_source`` with ``name`` now coming from ``source``."""
    parts = [p for p in meta.get("meta_source", "").split("; ") if p and not p.startswith(f"{name}=")]
    return "; ".join([*parts, f"{name}={source}"])


@dataclass
class _Found:
    """Metadata values with where each came from."""

    values: dict[str, str] = field(default_factory=lambda: dict.fromkeys(FIELDS, ""))
    sources: dict[str, str] = field(default_factory=dict)

    def offer(self, name: str, value: object, source: str) -> None:
        text = str(value).strip() if value else ""
        if text and not self.values[name]:
            self.values[name] = text
            self.sources[name] = source


def text_metadata(units: list[Unit], properties: dict[str, str] | None = None) -> dict[str, str]:
    """What the document itself says of the memo (see the module docstring for the order)."""
    rules = load_rules()
    properties = properties or {}
    head = units[:HEAD_UNITS]
    head_text = "\n".join(u.text for u in head)
    body_text = "\n".join(u.text for u in units)
    fields = _field_values(units, rules)
    found = _Found()
    found.offer("doc_type", _doc_type(units, rules), "heading")

    # the document's own date: a date field, a dateline, a one-date line of the title block
    single = _single_date(fields.get("date", ""))
    if single:
        found.offer("date", single[0], "field line")
        found.offer("year", single[1], "field line")
    for unit in head:
        line = _dateline(unit.text)
        if line:
            found.offer("venue", line[0], "dateline")
            found.offer("date", line[1], "dateline")
            found.offer("year", line[2], "dateline")
            found.offer("doc_type", rules.raw["metadata"].get("dateline_doc_type", ""), "dateline")
    for unit in head:
        if unit.kind == "heading" or len(unit.text.split()) <= 12:
            one = _single_date(unit.text)
            if one and one[0] and not _is_field_line(unit.text, rules):
                found.offer("date", one[0], "title block")
                found.offer("year", one[1], "title block")
    # the meeting's date gives the year when the document has no date of its own
    for key in ("date_and_venue", "event_date"):
        dated = parse_dates(fields.get(key, ""))
        if dated:
            found.offer("year", dated[0][1], "field line")
    held = _HELD_IN.search(body_text)
    if held:
        dated = parse_dates(body_text[held.end() : held.end() + 80])
        if dated:
            found.offer("year", dated[0][1], "sentence")
    dated = parse_dates(head_text)
    if dated:
        found.offer("year", dated[0][1], "title block")
    for unit in head:
        if unit.kind == "heading" and (bare := _BARE_YEAR.search(unit.text)):
            found.offer("year", bare.group(1), "heading")
    page_date = _single_date(properties.get("date", "")) or (
        (properties["date"][:10], int(properties["date"][:4]))
        if re.match(r"(?:19|20)\d\d-\d\d-\d\d", properties.get("date", ""))
        else None
    )
    if page_date:
        found.offer("date", page_date[0], "properties")
        found.offer("year", page_date[1], "properties")

    # the conference: the event field, then the head (headings first), then the body
    conference = None
    for text, source in (
        (fields.get("event", ""), "field line"),
        ("\n".join(u.text for u in head if u.kind == "heading"), "heading"),
        (head_text, "sentence"),
        (body_text, "sentence"),
    ):
        conference = find_conference(text, rules) if text else None
        if conference:
            found.offer("conference", conference.name, source)
            found.offer("edition", conference.edition, source)
            found.offer("series", conference.series, source)
            break

    found.offer("title", fields.get("title", ""), "field line")
    title, source = _title(units, rules, found.values["doc_type"])
    found.offer("title", title, source)
    found.offer("title", fields.get("event", ""), "field line")
    found.offer("title", _property_title(properties), "properties")

    found.offer("venue", fields.get("venue", ""), "field line")
    found.offer("venue", _strip_dates(fields.get("date_and_venue", "")), "field line")
    for unit in head:
        place = _strip_dates(unit.text)
        if (
            unit.kind == "heading"
            and parse_dates(unit.text)
            and place != unit.text.strip()
            and 0 < len(place.split()) <= 6
            and place[:1].isupper()
            and not _is_field_line(unit.text, rules)
            and _clean_type(unit.text).lower() != found.values["doc_type"].lower()
        ):
            found.offer("venue", place, "title block")
    if held:
        found.offer("venue", _cut_at_month(held.group("place")), "sentence")
    found.offer("organizer", fields.get("organizer", ""), "field line")
    organized = _ORGANIZED_BY.search(head_text)
    if organized:
        found.offer("organizer", organized.group("who").strip(), "sentence")

    meta = dict(found.values)
    meta["meta_source"] = "; ".join(
        f"{name}={found.sources[name]}" for name in FIELDS if name in found.sources
    )
    return meta


Given = dict[str, dict[str, str]]  # file name (with or without extension) -> field -> value


def read_sidecars(raw_dir: Path, sources: list[str]) -> tuple[dict[str, Given], list[str]]:
    """User-given metadata by origin ("manifest": ``manifest.csv`` rows, "sidecar":
    ``<name>.meta.toml`` files; a sidecar wins) and one "file: reason" line per problem.
    A file that cannot be parsed gives nothing (its memo keeps what its own text says); an
    unknown key or a row for a missing file is skipped alone; the run goes on either way."""
    given: Given = {}
    sidecars: Given = {}
    problems: list[str] = []
    present = set(sources) | {s.rsplit(".", 1)[0] for s in sources}
    manifest = raw_dir / "manifest.csv"
    if manifest.is_file():
        try:
            with manifest.open(encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.DictReader(handle))
                columns = [c for c in (rows[0].keys() if rows else []) if c is not None]
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            rows, columns = [], []
            problems.append(f"manifest.csv: cannot be read ({_first_line(error)})")
        unknown = [c for c in columns if c not in (*FIELDS, "source")]
        if unknown:
            known = ", ".join(("source", *FIELDS))
            problems.append(f"manifest.csv: unknown column {unknown[0]!r} (known: {known})")
        if rows and "source" not in columns:
            problems.append("manifest.csv: no 'source' column naming the files")
        for number, row in enumerate(rows, start=2):
            source = (row.get("source") or "").strip()
            if source and source not in present:
                problems.append(f"manifest.csv: line {number} names {source}, which is not in the raw folder")
            elif source:
                given[source] = {k: str(v).strip() for k, v in row.items() if k in FIELDS and v}
    for sidecar in sorted(raw_dir.rglob("*.meta.toml")):
        relative_name = str(sidecar.relative_to(raw_dir))
        name = sidecar.name[: -len(".meta.toml")]
        relative = str(sidecar.parent.relative_to(raw_dir) / name).removeprefix("./")
        try:
            values = tomllib.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            problems.append(f"{relative_name}: not valid TOML ({_first_line(error)}); ignored")
            continue
        unknown = [k for k in values if k not in FIELDS]
        if unknown:
            problems.append(f"{relative_name}: unknown key {unknown[0]!r} (known: {', '.join(FIELDS)})")
        if relative not in present:
            problems.append(f"{relative_name}: no file {name}.* beside it in the raw folder")
            continue
        sidecars.setdefault(relative, {}).update({k: str(v) for k, v in values.items() if k in FIELDS})
    return {"manifest": given, "sidecar": sidecars}, problems


def _first_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def sidecar_for(source: str, sidecars: Given) -> dict[str, str]:
    """Sidecar values for a file, matched by its name with or without the extension."""
    stem = source.rsplit(".", 1)[0]
    return {**sidecars.get(stem, {}), **sidecars.get(source, {})}


def with_given(row: dict, given: dict[str, str], origin: str) -> dict:
    """``row`` with user-given values, each recorded in ``meta_source`` as ``origin``."""
    out = dict(row)
    for name, value in given.items():
        out[name] = value
        out["meta_source"] = add_source(out, name, origin)
    return out
