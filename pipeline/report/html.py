"""reports/index.html: one self-contained page (no network, opens from disk).

Charts are embedded as data: URIs; there is no external CSS, script or font. Every string
that comes from a memo passes through ``html.escape``. Every number leads to its units:
each share cell, entity count and actor count links to a list (shown with CSS ``:target``)
of the units behind it, and each of those links to the unit in its document in the
"Documents" section, which holds every unit the page lists, so every link resolves inside
the page. One small inline script opens the collapsed document a link points into, fills
each list with the units' text and pages the long tables (with a filter box); without it,
every link still works.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from html import escape
from textwrap import shorten

import pandas as pd

from pipeline.report.data import (
    FEW_UNITS,
    ReportData,
    conference_sizes,
    points_text,
    recommendation_rows,
    representative_units,
    share_pair,
    share_text,
    short_labels,
    significant,
    top_keyness_terms,
    unit_order,
)  # fmt: skip
from pipeline.report.recurrence import editions_html, evidence

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;
color:#1a1a1a;background:#fafafa;line-height:1.45}
main{max-width:1100px;margin:0 auto;padding:1.2rem 1.4rem 4rem;background:#fff}
h1{font-size:1.6rem;margin:.6rem 0 .2rem}section>details>summary{cursor:pointer}
section>details>summary>h2{display:inline-block;width:calc(100% - 1.5rem)}
h2{margin-top:2.2rem;border-bottom:2px solid #e3e3e3;
padding-bottom:.2rem}h3{margin-bottom:.3rem}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9rem;color:#555}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.6rem 0}
th,td{border:1px solid #ddd;padding:.3rem .45rem;text-align:left;vertical-align:top}
th{background:#f2f4f7}td.num{text-align:right;white-space:nowrap}
.wide{overflow-x:auto}th.name{min-width:14rem}
.muted{color:#666;font-size:.9rem}.tag{display:inline-block;padding:0 .35rem;border-radius:3px;
background:#eef3f8;font-size:.85rem}.up{color:#1b6e20}.down{color:#b3261e}.few{background:#fff8e1}
nav a{margin-right:.8rem}blockquote{margin:.3rem 0 .6rem;padding:.2rem .8rem;border-left:3px solid #c8d6e5;
background:#f7f9fb}:target{background:#fff3bf}
li.unit{margin:.35rem 0}code{font-size:.85rem}
.units{display:none;border:1px solid #c8d6e5;background:#f7f9fb;padding:.4rem .9rem;margin:.5rem 0}
.units:target,.units.open{display:block}.units li{margin:.2rem 0}
details.doc>summary{cursor:pointer;font-weight:600;margin:.3rem 0}details.doc li{margin:.3rem 0}
p.sec{font-weight:600;color:#555;margin:.4rem 0 0}
.notice{border-left:4px solid #e0a800;background:#fff8e1;padding:.4rem .8rem}
input.filter{margin:.4rem 0;padding:.2rem .4rem;width:18rem}
table.paged:not(.live) tbody tr:nth-child(n+51){display:none}
"""

# Opens the collapsed <details> a link lands in; fills each unit list with the units'
# text (taken from the Documents section, so the text is in the page once); pages long
# tables, with a filter box. Text goes in with textContent, never as markup.
SCRIPT = """
(function(){
function show(id){var el=id&&document.getElementById(id);if(!el)return;
for(var e=el;e;e=e.parentElement){if(e.tagName==='DETAILS')e.open=true;}
if(el.classList.contains('units')){document.querySelectorAll('.units.open').forEach(function(u){
u.classList.remove('open');});el.classList.add('open');fill(el);}}
function fill(list){if(list.dataset.filled)return;list.dataset.filled='1';
list.querySelectorAll('li>a').forEach(function(a){
var u=document.getElementById(decodeURIComponent(a.hash.slice(1)));
if(u){var s=document.createElement('span');s.textContent=' '+u.firstChild.textContent;a.after(s);}});}
function page(table){var rows=[].slice.call(table.tBodies[0].rows),step=50,shown=step,query='';
table.classList.add('live');if(rows.length<=step)return;
var box=document.createElement('input');box.type='search';
box.className='filter';box.placeholder='filter these '+rows.length+' rows';
var more=document.createElement('button');
function update(){var n=0;rows.forEach(function(r){
var ok=!query||r.textContent.toLowerCase().indexOf(query)>=0;if(ok)n++;r.hidden=!(ok&&n<=shown);});
more.hidden=n<=shown;more.textContent='show more ('+(n-shown)+' left)';}
box.oninput=function(){query=box.value.toLowerCase().trim();shown=step;update();};
more.onclick=function(){shown+=4*step;update();};table.parentNode.insertBefore(box,table);
table.parentNode.insertBefore(more,table.nextSibling);update();}
document.querySelectorAll('table.paged').forEach(page);
document.addEventListener('click',function(e){var a=e.target.closest('a[href^="#"]');
if(a)show(decodeURIComponent(a.getAttribute('href').slice(1)));});
window.addEventListener('hashchange',function(){show(decodeURIComponent(location.hash.slice(1)));});
show(decodeURIComponent(location.hash.slice(1)));
})();
"""

# without the script, long tables show every row
NO_SCRIPT_CSS = "table.paged tbody tr:nth-child(n+51){display:table-row!important}"

FIGURES = (
    ("theme_shift", "Theme shift between conferences"),
    ("theme_shares", "Theme shares per conference"),
    ("keyness", "Distinctive terms per conference"),
    ("entities", "Organizations, countries and regions per conference"),
    ("recommendations_by_actor", "Recommendations by actor per conference"),
)


def anchor(doc_id: str, unit_id: str) -> str:
    return f"{doc_id}-u{unit_id}"


def doc_anchor(doc_id: str) -> str:
    return f"doc-{doc_id}"


class Page:
    """Collects the units the page cites, so the Documents section can hold them."""

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
        self.numbers = {doc_id: n for n, doc_id in enumerate(docs.get("doc_id", []), start=1)}
        self.titles = dict(
            zip(docs.get("doc_id", []), docs.get("title", docs.get("doc_id", [])), strict=True)
        )
        self.lists: dict[str, list[str]] = {}  # id of a unit list -> its HTML, by section

    def link(self, doc_id: str, unit_id: str, text: str | None = None) -> str:
        """A link to a unit, remembered for the Documents section."""
        doc_id, unit_id = str(doc_id), str(unit_id)
        self.cited.add((doc_id, unit_id))
        year = self.years.get(doc_id, "")
        label = text if text is not None else (f"{year} unit {unit_id}" if year else f"{doc_id} #{unit_id}")
        return f'<a href="#{escape(anchor(doc_id, unit_id))}">{escape(label)}</a>'

    def unit_label(self, doc_id: str, unit_id: str, among: pd.DataFrame) -> str:
        """ "unit 12", or with the document's title when ``among`` spans several documents."""
        if among["doc_id"].nunique() <= 1:
            return f"unit {unit_id}"
        return f"{shorten(str(self.titles.get(doc_id) or doc_id), 30)}, unit {unit_id}"

    def quote(self, doc_id: str, unit_id: str, text: str) -> str:
        source = self.link(doc_id, unit_id, f"unit {unit_id}")
        return f"<blockquote>{escape(text)} <span class=muted>— {source}</span></blockquote>"

    def cite(self, doc_id: str, unit_id: str, conference: str, year: object) -> str:
        """ "— 44th Conference 2013, unit 12" with the unit linked."""
        link = self.link(doc_id, unit_id, f"unit {unit_id}")
        return f"<span class=muted>— {escape(str(conference))} {escape(str(year))}, {link}</span>"

    def unit_list(self, section: str, list_id: str, title: str, keys: Iterable[tuple[str, str]]) -> str:
        """The opening tag of a link to the list of these units (each linking to its place in its document);
        the list itself is placed with ``lists_html``."""
        keys = list(dict.fromkeys((str(d), str(u)) for d, u in keys))
        one_document = len({d for d, _ in keys}) == 1
        items = []
        for doc_id, unit_id in keys:
            self.cited.add((doc_id, unit_id))
            target = anchor(doc_id, unit_id)
            name = "" if one_document else f"doc {self.numbers.get(doc_id, doc_id)}, "
            items.append(f'<li><a href="#{escape(target)}">{escape(name)}unit {escape(unit_id)}</a></li>')
        self.lists.setdefault(section, []).append(
            f'<div class=units id="{escape(list_id)}"><b>{escape(title)}</b> ({len(keys)} '
            f"unit{'' if len(keys) == 1 else 's'})<ol>{''.join(items)}</ol></div>"
        )
        return f'<a href="#{escape(list_id)}">'

    def lists_html(self, section: str) -> str:
        return "".join(self.lists.pop(section, []))


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


def _pts(change: float) -> str:
    cls = "up" if change > 0 else "down"
    return f'<span class="{cls}">{points_text(change)}</span>'


def _step_html(page: Page, step) -> str:
    data = page.data
    items = []
    for kind, moves, where in (
        ("gained", step.gains, step.after_key),
        ("lost", step.losses, step.before_key),
    ):
        for move in moves:
            reps = representative_units(data, move.theme, where, n=2)
            links = ", ".join(
                page.link(r.doc_id, r.unit_id, page.unit_label(r.doc_id, r.unit_id, reps))
                for r in reps.itertuples()
            )
            items.append(
                f"<li><b>{escape(move.label)}</b> {kind} {_pts(move.change)} "
                f"({share_pair(move.before, move.after)} of the units)"
                + (f"; see {links}" if links else "")
                + "</li>"
            )
    if not items:
        items.append("<li>No theme changed its share.</li>")
    return f"<h3>{escape(step.before)} → {escape(step.after)}</h3><ul>{''.join(items)}</ul>"


def summary_html(page: Page) -> str:
    """Each step between consecutive conferences; with many, the latest three open."""
    steps = page.data.steps
    if not steps:
        return "<p>Only one conference: there is no shift to describe yet. Its themes follow.</p>"
    shown = [_step_html(page, s) for s in steps[-3:]]
    earlier = [_step_html(page, s) for s in steps[:-3]]
    out = "".join(reversed(shown))
    if earlier:
        older = "".join(reversed(earlier))
        out += f"<details><summary>Earlier steps ({len(earlier)})</summary>{older}</details>"
    return out


MANY_COLUMNS = 5  # beyond this many conferences, table headers show short labels


def header_cells(data: ReportData, sizes: Mapping[int, int] | None = None) -> str:
    """One header cell per conference: its name, or with many its year (name on hover);
    a conference with few units marked "*"."""
    confs = data.conferences
    many = len(confs) > MANY_COLUMNS
    names = short_labels(confs) if many else list(confs["conference_label"])
    cells = []
    for conf, name in zip(confs.itertuples(index=False), names, strict=True):
        n = (sizes or {}).get(conf.conference_order, FEW_UNITS)
        flag = f" * ({n} units)" if n < FEW_UNITS else ""
        cells.append(f'<th title="{escape(conf.conference_label)}">{escape(name)}{escape(flag)}</th>')
    return "".join(cells)


def share_table_html(page: Page) -> str:
    """Theme x conference shares; each cell opens the list of its units."""
    data = page.data
    themes, shares, members = data["themes"], data["theme_shares"], data["unit_themes"]
    if themes.empty or shares.empty:
        return ""
    sizes = conference_sizes(shares)
    by_cell: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
    if not members.empty:
        ranked = members.assign(_rank=pd.to_numeric(members["rank"], errors="coerce")).sort_values("_rank")
        for row in ranked.itertuples(index=False):
            by_cell.setdefault((str(row.theme), str(row.conference), str(row.year)), []).append(
                (row.doc_id, row.unit_id)
            )
    rows = []
    for theme in themes.itertuples(index=False):
        cells = []
        mine = shares[shares["theme"] == theme.theme].set_index("conference_order")
        for conf in data.conferences.itertuples(index=False):
            if conf.conference_order not in mine.index:
                cells.append("<td class=num>–</td>")
                continue
            row = mine.loc[conf.conference_order]
            n, size = int(row["n_units"]), sizes.get(conf.conference_order, 0)
            text = share_text(float(row["share"]), n, size)
            few = size < FEW_UNITS
            keys = by_cell.get((str(theme.theme), str(conf.conference), str(conf.year)), [])
            if not keys:
                cells.append(f'<td class="num{" few" if few else ""}">{escape(text)}</td>')
                continue
            title = f"Theme {theme.theme} ({theme.label}) in {conf.conference_label}"
            opener = page.unit_list(
                "themes", f"units-theme-{theme.theme}-c{conf.conference_order}", title, keys
            )
            cells.append(f'<td class="num{" few" if few else ""}">{opener}{escape(text)}</a></td>')
        rows.append(
            f'<tr><th class=name><a href="#theme-{escape(str(theme.theme))}">{escape(str(theme.theme))}. '
            f"{escape(str(theme.label))}</a></th>{''.join(cells)}</tr>"
        )
    flagged = any(n < FEW_UNITS for n in sizes.values())
    note = (
        "<p class=muted>Each cell: share of the conference's units (and how many); click it for its units."
        + (
            f" * fewer than {FEW_UNITS} units: shares uncertain; the cell gives the 95% Wilson interval."
            if flagged
            else ""
        )
        + "</p>"
    )
    return (
        f"{note}<div class=wide><table><thead><tr><th>theme</th>{header_cells(page.data, sizes)}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>{page.lists_html('themes')}"
    )


def themes_html(page: Page) -> str:
    data = page.data
    themes = data["themes"]
    if themes.empty:
        return "<p>No themes were found (no content units).</p>"
    out = [share_table_html(page)]
    for theme in themes.itertuples(index=False):
        out.append(
            f'<h3 id="theme-{escape(theme.theme)}">Theme {escape(theme.theme)}: {escape(theme.label)}</h3>'
            f"<p class=muted>Key terms: {escape(theme.top_terms)} · {int(theme.n_units)} units</p>"
        )
        quotes: list[str] = []
        for conf in data.conferences.itertuples(index=False):
            reps = representative_units(data, theme.theme, (conf.conference, conf.year), n=1)
            quotes.extend(
                f"<p class=muted>{escape(conf.conference_label)}</p>"
                + page.quote(r.doc_id, r.unit_id, r.text)
                for r in reps.itertuples()
            )
        many = len(quotes) > 3
        out.append(
            f"<details{'' if many else ' open'}><summary>Most representative unit of each conference "
            f"({len(quotes)})</summary>{''.join(quotes)}</details>"
        )
    return "".join(out)


def keyness_html(page: Page, top: int = 10) -> str:
    table = page.data["keyness"]
    if table.empty:
        return "<p>Distinctive terms need at least two conferences.</p>"
    out = [
        "<p class=muted>Significant: q &lt; 0.05 after the Benjamini–Hochberg correction for the number "
        "of terms tested.</p><table class=paged><thead><tr><th>conference</th><th>term</th><th>G²</th>"
        "<th>p</th><th>q</th><th>significant</th><th>n here</th><th>n elsewhere</th></tr></thead><tbody>"
    ]
    for conf in page.data.conferences.itertuples(index=False):
        for row in top_keyness_terms(table, conf.conference_order, top).itertuples(index=False):
            q = getattr(row, "q_value", float("nan"))
            out.append(
                f"<tr><td>{escape(conf.conference_label)}</td><td>{escape(str(row.term))}</td>"
                f"<td class=num>{row.statistic:.2f}</td><td class=num>{row.p_value:.4f}</td>"
                f"<td class=num>{q:.4f}</td><td>{'yes' if significant(row.significant) else 'no'}</td>"
                f"<td class=num>{int(row.freq_target)}</td><td class=num>{int(row.freq_reference)}</td></tr>"
            )
    out.append("</tbody></table>")
    return "".join(out)


def actors_html(page: Page, recs: pd.DataFrame) -> str:
    """Actor x conference counts (the bars of the chart); each count opens its recommendations."""
    confs = page.data.conferences
    recs = recs.assign(actor=recs["actor"].fillna("").replace("", "unspecified"))
    counts = recs.groupby("actor").size().sort_values(ascending=False, kind="stable")
    rows = []
    for index, actor in enumerate(counts.index):
        cells = []
        for conf in confs.itertuples(index=False):
            mine = recs[(recs["actor"] == actor) & (recs["conference_order"] == conf.conference_order)]
            if mine.empty:
                cells.append("<td class=num>–</td>")
                continue
            title = f"Recommendations to {actor} in {conf.conference_label}"
            keys = zip(mine["doc_id"], mine["unit_id"], strict=True)
            opener = page.unit_list("actors", f"units-actor-{index}-c{conf.conference_order}", title, keys)
            cells.append(f"<td class=num>{opener}{len(mine)}</a></td>")
        rows.append(f"<tr><th class=name>{escape(str(actor))}</th>{''.join(cells)}</tr>")
    header = header_cells(page.data)
    return (
        "<p class=muted>Recommendations per actor and conference (the bars above); click a count for its "
        f"recommendations.</p><div class=wide><table><thead><tr><th>actor</th>{header}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>{page.lists_html('actors')}"
    )


def recommendations_html(page: Page) -> str:
    data = page.data
    recs = recommendation_rows(data)
    if recs.empty:
        note = "No recommendations table in processed/: run the extract stage."
        return f"<p>{escape(note)}</p>"
    analysis = data.analysis
    out = [
        actors_html(page, recs),
        "<h3>Every recommendation</h3>"
        "<p class=muted>A later recommendation <i>takes up</i> an earlier one when their similarity "
        f"reaches {escape(str(analysis.get('recurrence_threshold', '?')))} and beats the runner-up by "
        f"{escape(str(analysis.get('recurrence_margin', '?')))}, the two being each other's best match "
        f"({escape(str(analysis.get('recurrence_threshold_source', '')))}).</p>",
        "<table class=paged><thead><tr><th>conference</th><th>unit</th><th>recommendation</th><th>actor</th>"
        "<th>theme</th><th>recurrence</th></tr></thead><tbody>",
    ]
    confs = data.conferences
    labels = dict(zip(confs["conference_order"], confs["conference_label"], strict=True))
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
            f"<tr><td>{escape(labels.get(rec.conference_order, f'{rec.conference} {rec.year}'))}</td>"
            f"<td>{page.link(rec.doc_id, rec.unit_id, f'#{rec.unit_id}')}</td>"
            f"<td>{escape(str(rec.text))}</td><td><span class=tag>{escape(str(rec.actor))}</span></td>"
            f"<td>{theme}</td><td>{'<br>'.join(recurrence) or '—'}</td></tr>"
        )
    out.append("</tbody></table>")
    pairs = data["recurring_recommendations"]
    out.append("<h3>Recurring recommendations</h3>")
    if pairs.empty:
        out.append("<p>No later recommendation takes up an earlier one at this threshold.</p>")
    else:
        out.append(
            "<table class=paged><thead><tr><th>earlier</th><th>later</th><th>similarity</th></tr></thead>"
            "<tbody>"
        )
        for p in pairs.itertuples(index=False):
            earlier = page.cite(p.doc_id_a, p.unit_id_a, p.conference_a, p.year_a)
            later = page.cite(p.doc_id_b, p.unit_id_b, p.conference_b, p.year_b)
            out.append(
                f"<tr><td>{escape(p.text_a)}<br>{earlier}</td><td>{escape(p.text_b)}<br>{later}</td>"
                f"<td class=num>{p.similarity:.2f}<br><small>{escape(evidence(p))}</small></td></tr>"
            )
        out.append("</tbody></table>")
    out.append(editions_html(data["recurrence_by_edition"]))
    left = data["recommendations_not_taken_up"]
    out.append("<h3>Earlier recommendations not taken up</h3>")
    if left.empty:
        out.append("<p>None (or only one conference has recommendations).</p>")
    else:
        out.append("<details><summary>" + f"{len(left)} recommendations</summary><ul>")
        for row in left.itertuples(index=False):
            cited = page.cite(row.doc_id, row.unit_id, row.conference, row.year)
            out.append(f"<li class=unit>{escape(row.text)} {cited}</li>")
        out.append("</ul></details>")
    return "".join(out)


def entities_html(page: Page) -> str:
    """Every entity named, mentions per conference; each count opens the units naming it."""
    counts, mentions = page.data["entity_counts"], page.data.mentions
    if counts.empty:
        return "<p>No entities table in processed/: run the extract stage.</p>"
    confs = page.data.conferences
    by_cell: dict[tuple[str, str, int], list[tuple[str, str]]] = {}
    for row in mentions.itertuples(index=False) if not mentions.empty else []:
        by_cell.setdefault((row.label, row.canonical, int(row.conference_order)), []).append(
            (row.doc_id, row.unit_id)
        )
    totals = counts.groupby(["label", "canonical"])["n_mentions"].sum().reset_index()
    totals = totals.sort_values(["label", "n_mentions", "canonical"], ascending=[True, False, True])
    n_mentions = counts.set_index(["label", "canonical", "conference_order"])["n_mentions"].to_dict()
    rows = []
    for index, entity in enumerate(totals.itertuples(index=False)):
        cells = []
        for conf in confs.itertuples(index=False):
            n = int(n_mentions.get((entity.label, entity.canonical, conf.conference_order), 0))
            if not n:
                cells.append("<td class=num>–</td>")
                continue
            keys = by_cell.get((entity.label, entity.canonical, int(conf.conference_order)), [])
            title = f"{entity.canonical} in {conf.conference_label}"
            opener = page.unit_list("entities", f"units-entity-{index}-c{conf.conference_order}", title, keys)
            cells.append(f"<td class=num>{opener}{n}</a></td>")
        rows.append(
            f"<tr><td>{escape(str(entity.label).lower())}</td>"
            f"<th class=name>{escape(str(entity.canonical))}</th>{''.join(cells)}</tr>"
        )
    header = header_cells(page.data)
    return (
        "<p class=muted>Mentions of every organization, country and region per conference; click a "
        "count for the units that name it.</p><div class=wide><table class=paged><thead><tr><th>kind</th>"
        f"<th>name</th>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        f"{page.lists_html('entities')}"
    )


def documents_html(page: Page) -> str:
    """Every unit the page lists or cites, in its document (each document collapsed)."""
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
            f'<details class=doc id="{escape(doc_anchor(doc_id))}"><summary>{page.numbers.get(doc_id, "")}. '
            f"{escape(str(info.get('title') or doc_id))} <span class=muted>{escape(when)} · "
            f"{len(by_doc[doc_id])} units</span></summary>"
            f"<p class=muted>file <code>{escape(str(info.get('source', '')))}</code>"
            f" · id <code>{escape(doc_id)}</code></p><ol>"
        )
        current = ""
        for unit_id in sorted(by_doc[doc_id], key=unit_order):
            text, section, _ = page.units.get((doc_id, unit_id), ("(unit not found in units.csv)", "", ""))
            if section and section != current:  # the heading once, where its units start
                out.append(f"</ol><p class=sec>{escape(str(section))}</p><ol>")
                current = section
            where = f'id="{escape(anchor(doc_id, unit_id))}" value="{escape(str(unit_id))}"'
            out.append(f"<li {where}>{escape(str(text))}</li>")
        out.append("</ol></details>")
    return "".join(out)


def _plain(value: object) -> str:
    """A value of analysis.json as escaped text (lists and mappings flattened)."""
    if isinstance(value, Mapping):
        return "; ".join(f"{escape(str(k))}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    return escape(str(value))


def stamp_html(data: ReportData) -> str:
    """When and from what this report was made, and whether the themes were re-fitted."""
    analysis = data.analysis
    docs = data["documents"]
    readable = docs[docs["status"] != "error"] if "status" in docs.columns else docs
    parts = [f"Corpus: {len(readable)} documents, {len(data.conferences)} conferences in the charts."]
    for key in ("run_stamp", "run", "stamp"):
        if isinstance(analysis.get(key), Mapping | str):
            parts.append(f"Run: {_plain(analysis[key])}.")
            break
    out = [f"<p class=muted>{' '.join(parts)}</p>"]
    undated = data.undated
    if not undated.empty:
        names = ", ".join(
            f"{escape(str(r.get('title') or r['doc_id']))} (<code>{escape(str(r.get('source', '')))}</code>)"
            for r in undated.to_dict("records")
        )
        out.append(
            f"<p class=notice>{len(undated)} undated document{'s' if len(undated) != 1 else ''} "
            f"(no year or date found) left out of the charts and shares: {names}.</p>"
        )
    for key in ("refit", "theme_refit", "refits"):
        refit = analysis.get(key)
        if refit:
            out.append(
                f"<div class=notice><b>The themes were re-fitted in this run.</b> {refit_html(refit)}</div>"
            )
            break
    return "".join(out)


def refit_html(refit: object) -> str:
    """What analysis.json says changed: its message, and the shares that moved, as a table."""
    if not isinstance(refit, Mapping):
        return _plain(refit)
    text = [f"{escape(str(k))}: {_plain(v)}" for k, v in refit.items() if not isinstance(v, list)]
    out = [f"<p>{'; '.join(text)}</p>" if text else ""]
    for key, rows in refit.items():
        if isinstance(rows, list) and rows and all(isinstance(r, Mapping) for r in rows):
            columns = list(dict.fromkeys(k for r in rows for k in r))
            head = "".join(f"<th>{escape(str(c))}</th>" for c in columns)
            body = "".join(
                "<tr>" + "".join(f"<td>{_plain(r.get(c, ''))}</td>" for c in columns) + "</tr>" for r in rows
            )
            out.append(
                f"<p>{escape(str(key))}:</p><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            )
        elif isinstance(rows, list):
            out.append(f"<p>{escape(str(key))}: {_plain(rows)}</p>")
    return "".join(out)


def render(data: ReportData, pngs: Mapping[str, bytes] | None) -> str:
    """The whole page; ``pngs`` are the charts by name (see FIGURES), embedded as data: URIs
    (``None``: every chart, left for ``embed``)."""
    page = Page(data)
    analysis = data.analysis
    sizes = conference_sizes(data["theme_shares"])
    conf_items = "".join(
        f"<li>{escape(c.conference_label)}: {sizes.get(c.conference_order, 0)} units"
        + (
            f" (fewer than {FEW_UNITS}: shares uncertain)"
            if sizes.get(c.conference_order, 0) < FEW_UNITS
            else ""
        )
        + "</li>"
        for c in data.conferences.itertuples(index=False)
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
        f'<section id="{sid}"><details open><summary><h2>{escape(title)}</h2></summary>{content}</details>'
        "</section>"
        for sid, title, content in sections
    )
    documents = (
        '<section id="documents"><h2>Documents: every unit listed or cited above</h2>'
        f"<p class=muted>Click a document to open it.</p>{documents_html(page)}</section>"
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
        f"{stamp_html(data)}"
        f"<p class=muted>{method}</p><details{' open' if len(data.conferences) <= 5 else ''}><summary>"
        f"Conferences, in order ({len(data.conferences)})</summary>"
        f"<ul>{conf_items or '<li>none</li>'}</ul></details>"
        f"<nav>{nav}</nav>{body}{documents}"
        "<p class=muted>Generated by the memo pipeline from the tables in processed/ "
        "(see docs/outputs.md for every column).</p>"
        f"</main><noscript><style>{NO_SCRIPT_CSS}</style></noscript>"
        f"<script>{SCRIPT}</script></body></html>\n"
    )
