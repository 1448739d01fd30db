"""reports/index.html: one self-contained page (no network, opens from disk).

Charts are embedded as data: URIs; there is no external CSS, script or font. Every string
that comes from a memo passes through ``html.escape``. Every unit the page cites links to
``#<doc_id>-u<unit_id>``, and the "Documents" section at the end holds exactly those
units, so every link resolves inside the page.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from html import escape

from pipeline.analyze.themes import distinct_terms
from pipeline.report.data import ReportData, recommendation_rows, representative_units
from pipeline.report.recurrence import editions_html, evidence

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;
color:#1a1a1a;background:#fafafa;line-height:1.45}
main{max-width:1100px;margin:0 auto;padding:1.2rem 1.4rem 4rem;background:#fff}
h1{font-size:1.6rem;margin:.6rem 0 .2rem}h2{margin-top:2.2rem;border-bottom:2px solid #e3e3e3;
padding-bottom:.2rem}h3{margin-bottom:.3rem}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9rem;color:#555}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.6rem 0}
th,td{border:1px solid #ddd;padding:.3rem .45rem;text-align:left;vertical-align:top}
th{background:#f2f4f7}td.num{text-align:right;white-space:nowrap}
.muted{color:#666;font-size:.9rem}.tag{display:inline-block;padding:0 .35rem;border-radius:3px;
background:#eef3f8;font-size:.85rem}.up{color:#1b6e20}.down{color:#b3261e}
nav a{margin-right:.8rem}blockquote{margin:.3rem 0 .6rem;padding:.2rem .8rem;border-left:3px solid #c8d6e5;
background:#f7f9fb}:target{background:#fff3bf}
li.unit{margin:.35rem 0}code{font-size:.85rem}
"""

FIGURES = (
    ("theme_shift", "Theme shift between conferences"),
    ("theme_shares", "Theme shares per conference"),
    ("keyness", "Distinctive terms per conference"),
    ("entities", "Organizations, countries and regions per conference"),
    ("recommendations_by_actor", "Recommendations by actor per conference"),
)


def anchor(doc_id: str, unit_id: str) -> str:
    return f"{doc_id}-u{unit_id}"


class Page:
    """Collects the units the page cites, so the Documents section can list them."""

    def __init__(self, data: ReportData) -> None:
        self.data = data
        self.cited: set[tuple[str, str]] = set()
        units = data["units"]
        # (doc_id, unit_id) -> (text, section, kind): a dict, as thousands of units are looked up
        columns = [units[c] if c in units.columns else [""] * len(units) for c in ("text", "section", "kind")]
        self.units: dict[tuple[str, str], tuple[str, str, str]] = (
            dict(
                zip(
                    zip(units["doc_id"], units["unit_id"], strict=True),
                    zip(*columns, strict=True),
                    strict=True,
                )
            )
            if not units.empty
            else {}
        )
        docs = data["documents"]
        self.years = dict(zip(docs.get("doc_id", []), docs.get("year", []), strict=True))

    def link(self, doc_id: str, unit_id: str, text: str | None = None) -> str:
        """A link to a unit, remembered for the Documents section."""
        doc_id, unit_id = str(doc_id), str(unit_id)
        self.cited.add((doc_id, unit_id))
        year = self.years.get(doc_id, "")
        label = text if text is not None else (f"{year} unit {unit_id}" if year else f"{doc_id} #{unit_id}")
        return f'<a href="#{escape(anchor(doc_id, unit_id))}">{escape(label)}</a>'

    def quote(self, doc_id: str, unit_id: str, text: str) -> str:
        source = self.link(doc_id, unit_id, f"unit {unit_id}")
        return f"<blockquote>{escape(text)} <span class=muted>— {source}</span></blockquote>"

    def cite(self, doc_id: str, unit_id: str, conference: str, year: object) -> str:
        """ "— 44th Conference 2013, unit 12" with the unit linked."""
        link = self.link(doc_id, unit_id, f"unit {unit_id}")
        return f"<span class=muted>— {escape(str(conference))} {escape(str(year))}, {link}</span>"


def _img(png: bytes | None, name: str, alt: str) -> str:
    source = (
        f"data:image/png;base64,{base64.b64encode(png).decode('ascii')}"
        if png is not None
        else _pending(name)
    )
    return f'<img src="{source}" alt="{escape(alt)}">'


def _pending(name: str) -> str:
    """Where a chart not drawn yet goes: a "<" never survives ``escape``, so memo text
    cannot contain this."""
    return f"<pending chart {name}>"


def embed(page: str, pngs: Mapping[str, bytes]) -> str:
    """The page rendered without charts (``render(data, None)``), with the charts put in:
    the page can then be rendered while the charts are being drawn."""
    for name, png in pngs.items():
        page = page.replace(_pending(name), f"data:image/png;base64,{base64.b64encode(png).decode('ascii')}")
    return page


def _pct(value: float) -> str:
    return f"{value:.0%}"


def _pts(value: float) -> str:
    cls = "up" if value > 0 else "down"
    return f'<span class="{cls}">{abs(value) * 100:.0f} points</span>'


def summary_html(page: Page) -> str:
    data = page.data
    parts = []
    if not data.steps:
        parts.append("<p>Only one conference: there is no shift to describe yet. Its themes follow.</p>")
    for step in data.steps:
        items = []
        for kind, moves, where in (
            ("gained", step.gains, step.after_key),
            ("lost", step.losses, step.before_key),
        ):
            for move in moves:
                reps = representative_units(data, move.theme, where, n=2)
                links = ", ".join(
                    page.link(r.doc_id, r.unit_id, f"unit {r.unit_id}") for r in reps.itertuples()
                )
                items.append(
                    f"<li><b>{escape(move.label)}</b> {kind} {_pts(move.change)} "
                    f"({_pct(move.before)} → {_pct(move.after)} of the units)"
                    + (f"; see {links}" if links else "")
                    + "</li>"
                )
        if not items:
            items.append("<li>No theme changed its share.</li>")
        parts.append(f"<h3>{escape(step.before)} → {escape(step.after)}</h3><ul>{''.join(items)}</ul>")
    return "".join(parts)


def themes_html(page: Page) -> str:
    data = page.data
    themes, shares = data["themes"], data["theme_shares"]
    if themes.empty:
        return "<p>No themes were found (no content units).</p>"
    out = []
    for theme in themes.itertuples(index=False):
        mine = shares[shares["theme"] == theme.theme].sort_values("conference_order")
        share_cells = "".join(
            f"<td class=num>{_pct(r.share)} ({int(r.n_units)})</td>" for r in mine.itertuples()
        )
        header = "".join(f"<th>{escape(c)}</th>" for c in mine["conference_label"])
        out.append(
            f'<h3 id="theme-{escape(theme.theme)}">Theme {escape(theme.theme)}: {escape(theme.label)}</h3>'
            f"<p class=muted>Key terms: {escape(theme.top_terms)} · {int(theme.n_units)} units</p>"
            f"<table><tr>{header}</tr><tr>{share_cells}</tr></table>"
            "<p>Most representative units:</p>"
        )
        reps = representative_units(data, theme.theme, n=3)
        out.extend(page.quote(r.doc_id, r.unit_id, r.text) for r in reps.itertuples())
    return "".join(out)


def keyness_html(page: Page, top: int = 10) -> str:
    table = page.data["keyness"]
    if table.empty:
        return "<p>Distinctive terms need at least two conferences.</p>"
    out = [
        "<table><tr><th>conference</th><th>term</th><th>G²</th><th>p</th><th>significant</th>"
        "<th>n here</th><th>n elsewhere</th></tr>"
    ]
    for conf in page.data.conferences.itertuples(index=False):
        mine = table[(table["conference_order"] == conf.conference_order) & (table["statistic"] > 0)]
        mine = mine.sort_values(["statistic", "term"], ascending=[False, True], kind="stable")
        terms = distinct_terms(list(mine["term"]), top)
        for term in terms:
            row = mine[mine["term"] == term].iloc[0]
            significant = str(row["significant"]).lower() in {"true", "1"}
            out.append(
                f"<tr><td>{escape(conf.conference_label)}</td><td>{escape(term)}</td>"
                f"<td class=num>{row['statistic']:.2f}</td><td class=num>{row['p_value']:.4f}</td>"
                f"<td>{'yes' if significant else 'no'}</td><td class=num>{int(row['freq_target'])}</td>"
                f"<td class=num>{int(row['freq_reference'])}</td></tr>"
            )
    out.append("</table>")
    return "".join(out)


def recommendations_html(page: Page) -> str:
    data = page.data
    recs = recommendation_rows(data)
    if recs.empty:
        note = "No recommendations table in processed/: run the extract stage."
        return f"<p>{escape(note)}</p>"
    analysis = data.analysis
    out = [
        "<p class=muted>A later recommendation <i>takes up</i> an earlier one when their similarity "
        f"reaches {analysis.get('recurrence_threshold', '?')} and beats the runner-up by "
        f"{analysis.get('recurrence_margin', '?')}, the two being each other's best match "
        f"({escape(str(analysis.get('recurrence_threshold_source', '')))}).</p>",
        "<table><tr><th>conference</th><th>unit</th><th>recommendation</th><th>actor</th>"
        "<th>theme</th><th>recurrence</th></tr>",
    ]
    for rec in recs.itertuples(index=False):
        recurrence = []
        for doc, unit, sim in rec.takes_up:
            recurrence.append(f"takes up {page.link(doc, unit)} (similarity {sim:.2f})")
        for doc, unit, sim in rec.taken_up_by:
            recurrence.append(f"taken up by {page.link(doc, unit)} (similarity {sim:.2f})")
        if rec.not_taken_up:
            recurrence.append("not taken up later")
        if rec.part_of:
            recurrence.append(f"continues {page.link(rec.doc_id, rec.part_of, f'unit {rec.part_of}')}")
        theme = (
            f'<a href="#theme-{escape(str(rec.theme))}">{escape(str(rec.theme_label))}</a>'
            if rec.theme
            else ""
        )
        out.append(
            f"<tr><td>{escape(str(rec.conference))} {escape(str(rec.year))}</td>"
            f"<td>{page.link(rec.doc_id, rec.unit_id, f'#{rec.unit_id}')}</td>"
            f"<td>{escape(str(rec.text))}</td><td><span class=tag>{escape(str(rec.actor))}</span></td>"
            f"<td>{theme}</td><td>{'<br>'.join(recurrence) or '—'}</td></tr>"
        )
    out.append("</table>")
    pairs = data["recurring_recommendations"]
    out.append("<h3>Recurring recommendations</h3>")
    if pairs.empty:
        out.append("<p>No later recommendation takes up an earlier one at this threshold.</p>")
    else:
        out.append("<table><tr><th>earlier</th><th>later</th><th>similarity</th></tr>")
        for p in pairs.itertuples(index=False):
            earlier = page.cite(p.doc_id_a, p.unit_id_a, p.conference_a, p.year_a)
            later = page.cite(p.doc_id_b, p.unit_id_b, p.conference_b, p.year_b)
            out.append(
                f"<tr><td>{escape(p.text_a)}<br>{earlier}</td><td>{escape(p.text_b)}<br>{later}</td>"
                f"<td class=num>{p.similarity:.2f}<br><small>{escape(evidence(p))}</small></td></tr>"
            )
        out.append("</table>")
    out.append(editions_html(data["recurrence_by_edition"]))
    left = data["recommendations_not_taken_up"]
    out.append("<h3>Earlier recommendations not taken up</h3>")
    if left.empty:
        out.append("<p>None (or only one conference has recommendations).</p>")
    else:
        out.append("<ul>")
        for row in left.itertuples(index=False):
            cited = page.cite(row.doc_id, row.unit_id, row.conference, row.year)
            out.append(f"<li class=unit>{escape(row.text)} {cited}</li>")
        out.append("</ul>")
    return "".join(out)


def entities_html(page: Page, top: int = 10) -> str:
    counts = page.data["entity_counts"]
    if counts.empty:
        return "<p>No entities table in processed/: run the extract stage.</p>"
    out = ["<table><tr><th>conference</th><th>kind</th><th>most named (mentions)</th></tr>"]
    for conf in page.data.conferences.itertuples(index=False):
        mine = counts[counts["conference_order"] == conf.conference_order]
        for label, group in mine.groupby("label", sort=True):
            group = group.sort_values(["n_mentions", "canonical"], ascending=[False, True])
            names = ", ".join(
                f"{escape(r.canonical)} ({int(r.n_mentions)})" for r in group.head(top).itertuples()
            )
            more = f" … and {len(group) - top} more" if len(group) > top else ""
            out.append(
                f"<tr><td>{escape(conf.conference_label)}</td><td>{escape(label)}</td><td>{names}{more}</td></tr>"
            )
    out.append("</table>")
    return "".join(out)


def _unit_order(unit_id: str) -> tuple[float, str]:
    """Unit ids in reading order: numerically (ids are numbers), then as text."""
    return (float(unit_id) if unit_id.isdigit() else float("inf"), unit_id)


def documents_html(page: Page) -> str:
    """Every cited unit, grouped by document, each with its anchor."""
    data = page.data
    docs = data["documents"]
    out = []
    by_doc: dict[str, list[str]] = {}
    for doc_id, unit_id in page.cited:
        by_doc.setdefault(doc_id, []).append(unit_id)
    order = {d: i for i, d in enumerate(docs["doc_id"])} if not docs.empty else {}
    meta = docs.set_index("doc_id").to_dict("index") if not docs.empty else {}
    for doc_id in sorted(by_doc, key=lambda d: (order.get(d, len(order)), d)):
        info = meta.get(doc_id, {})
        when = f"{info.get('conference', '')} {info.get('year', '')}".strip()
        out.append(
            f'<h3 id="{escape(doc_id)}">{escape(str(info.get("title") or doc_id))}</h3>'
            f"<p class=muted>{escape(when)} · file <code>{escape(str(info.get('source', '')))}</code>"
            f" · id <code>{escape(doc_id)}</code></p><ol>"
        )
        for unit_id in sorted(by_doc[doc_id], key=_unit_order):
            text, section, kind = page.units.get((doc_id, unit_id), ("(unit not found in units.csv)", "", ""))
            out.append(
                f'<li class=unit id="{escape(anchor(doc_id, unit_id))}" value="{escape(str(unit_id))}">'
                f"{escape(str(text))} <span class=muted>[{escape(str(kind))}"
                + (f"; section: {escape(str(section))}" if section else "")
                + "]</span></li>"
            )
        out.append("</ol>")
    return "".join(out)


def render(data: ReportData, pngs: Mapping[str, bytes] | None) -> str:
    """The whole page; ``pngs`` are the charts by name (see FIGURES), embedded as data: URIs
    (``None``: every chart, left for ``embed``)."""
    page = Page(data)
    analysis = data.analysis
    confs = data.conferences
    shares = data["theme_shares"]
    sizes = shares.drop_duplicates("conference_order").set_index("conference_order")["n_conference_units"]
    conf_items = "".join(
        f"<li>{escape(c.conference_label)}: {int(sizes.get(c.conference_order, 0))} units</li>"
        for c in confs.itertuples(index=False)
    )
    figure_html = {
        name: f"<figure>{_img(pngs[name] if pngs is not None else None, name, title)}"
        f"<figcaption>{escape(title)} (also as <code>figures/{name}.svg</code>)</figcaption></figure>"
        for name, title in FIGURES
        if pngs is None or name in pngs
    }
    sections = [
        ("summary", "What changed", summary_html(page) + figure_html.get("theme_shift", "")),
        ("themes", "Themes", figure_html.get("theme_shares", "") + themes_html(page)),
        ("keyness", "Distinctive terms", figure_html.get("keyness", "") + keyness_html(page)),
        (
            "recommendations",
            "Recommendations",
            figure_html.get("recommendations_by_actor", "") + recommendations_html(page),
        ),
        ("entities", "Who was named", figure_html.get("entities", "") + entities_html(page)),
    ]
    body = "".join(
        f'<section id="{sid}"><h2>{escape(title)}</h2>{content}</section>' for sid, title, content in sections
    )
    documents = (
        f'<section id="documents"><h2>Documents: the units cited above</h2>{documents_html(page)}</section>'
    )
    nav = (
        "".join(f'<a href="#{sid}">{escape(title)}</a>' for sid, title, _ in sections)
        + '<a href="#documents">Documents</a>'
    )
    method = (
        f"Themes: {escape(str(analysis.get('theme_method', '?')).upper())} with "
        f"{escape(str(analysis.get('n_themes', '?')))} themes "
        f"(setting: {escape(str(analysis.get('n_themes_setting', '?')))}), over "
        f"{escape(str(analysis.get('n_content_units', '?')))} sentences and list items."
    )
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        "<title>UNSCR 1540 conference memos: themes, shifts and recommendations</title>"
        f"<style>{CSS}</style></head><body><main>"
        "<h1>UNSCR 1540 conference memos: themes, shifts and recommendations</h1>"
        f"<p class=muted>{method} Conferences, in order:</p><ul>{conf_items or '<li>none</li>'}</ul>"
        f"<nav>{nav}</nav>{body}{documents}"
        "<p class=muted>Generated by the memo pipeline from the tables in processed/ "
        "(see docs/analysis.md for every column).</p>"
        "</main></body></html>\n"
    )
