"""reports/summary.md: the findings of the HTML report in Markdown.

Unit references link into index.html (``index.html#<doc_id>-u<unit_id>``), which sits
beside this file. Memo text is quoted as plain text with Markdown's special characters
escaped, so a memo cannot inject formatting or links.
"""

from __future__ import annotations

import re

from pipeline.report.data import (
    FEW_UNITS,
    ReportData,
    conference_sizes,
    points_text,
    representative_units,
    share_pair,
    share_text,
    significant,
    top_keyness_terms,
)  # fmt: skip
from pipeline.report.html import anchor

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~])")


def md_escape(text: object) -> str:
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _link(doc_id: str, unit_id: str, text: str | None = None) -> str:
    return f"[{md_escape(text or f'unit {unit_id}')}](index.html#{anchor(str(doc_id), str(unit_id))})"


def render(data: ReportData) -> str:
    analysis = data.analysis
    lines = ["# UNSCR 1540 conference memos: findings", ""]
    lines.append(
        f"Themes: {str(analysis.get('theme_method', '?')).upper()}, {analysis.get('n_themes', '?')} themes "
        f"over {analysis.get('n_content_units', '?')} sentences and list items. "
        "The full report with charts is `index.html`."
    )
    lines += ["", "## Conferences", ""]
    sizes = conference_sizes(data["theme_shares"])
    for conf in data.conferences.itertuples(index=False):
        n = sizes.get(conf.conference_order, 0)
        few = f" (fewer than {FEW_UNITS}: shares uncertain)" if n < FEW_UNITS else ""
        lines.append(f"- {md_escape(conf.conference_label)}: {n} units{few}")
    for doc in data.undated.to_dict("records"):
        lines.append(f"- undated, left out: {md_escape(doc.get('title') or doc['doc_id'])}")
    lines += ["", "## What changed", ""]
    if not data.steps:
        lines.append("Only one conference: there is no shift to describe yet.")
    for step in data.steps:
        lines.append(f"### {md_escape(step.before)} → {md_escape(step.after)}")
        lines.append("")
        for kind, moves, where in (
            ("gained", step.gains, step.after_key),
            ("lost", step.losses, step.before_key),
        ):
            for move in moves:
                reps = representative_units(data, move.theme, where, n=2)
                links = ", ".join(_link(r.doc_id, r.unit_id) for r in reps.itertuples())
                lines.append(
                    f"- **{md_escape(move.label)}** {kind} {points_text(move.change)} "
                    f"({share_pair(move.before, move.after)} of the units)"
                    + (f"; see {links}" if links else "")
                )
        lines.append("")
    lines += [
        "## Themes",
        "",
        "| theme | label | key terms | "
        + " | ".join(
            md_escape(c) + (" \\*" if sizes.get(o, 0) < FEW_UNITS else "")
            for c, o in zip(
                data.conferences["conference_label"], data.conferences["conference_order"], strict=True
            )
        )
        + " |",
    ]
    lines.append("|---|---|---|" + "---|" * len(data.conferences))
    shares = data["theme_shares"]
    for theme in data["themes"].itertuples(index=False):
        mine = shares[shares["theme"] == theme.theme].set_index("conference_order")
        cells = " | ".join(
            share_text(float(mine.at[o, "share"]), int(mine.at[o, "n_units"]), sizes.get(o, 0))
            if o in mine.index
            else "–"
            for o in data.conferences["conference_order"]
        )
        lines.append(f"| {theme.theme} | {md_escape(theme.label)} | {md_escape(theme.top_terms)} | {cells} |")
    if any(n < FEW_UNITS for n in sizes.values()):
        lines += ["", f"\\* fewer than {FEW_UNITS} units: shares uncertain, with their 95% Wilson interval."]
    lines += ["", "## Distinctive terms (log-likelihood G², * = q < 0.05, Benjamini–Hochberg)", ""]
    key = data["keyness"]
    if key.empty:
        lines.append("Distinctive terms need at least two conferences.")
    for conf in data.conferences.itertuples(index=False):
        if key.empty:
            break
        parts = [
            f"{md_escape(row.term)} ({row.statistic:.1f}{'*' if significant(row.significant) else ''})"
            for row in top_keyness_terms(key, conf.conference_order, 10).itertuples(index=False)
        ]
        lines.append(f"- **{md_escape(conf.conference_label)}**: " + (", ".join(parts) or "none"))
    lines += ["", "## Recurring recommendations", ""]
    lines.append(
        f"Threshold {analysis.get('recurrence_threshold', '?')}: "
        f"{md_escape(analysis.get('recurrence_threshold_source', ''))}."
    )
    lines.append("")
    pairs = data["recurring_recommendations"]
    if pairs.empty:
        lines.append("No later recommendation takes up an earlier one at this threshold.")
    for p in pairs.itertuples(index=False):
        later = f"{md_escape(p.conference_b)} {p.year_b}, {_link(p.doc_id_b, p.unit_id_b)}"
        earlier = f"{md_escape(p.conference_a)} {p.year_a}, {_link(p.doc_id_a, p.unit_id_a)}"
        lines.append(
            f"- {md_escape(p.text_b)} ({later}) takes up: {md_escape(p.text_a)} ({earlier}); "
            f"similarity {p.similarity:.2f}"
        )
    left = data["recommendations_not_taken_up"]
    lines += ["", f"Earlier recommendations not taken up later: {len(left)}.", ""]
    for row in left.itertuples(index=False):
        place = f"{md_escape(row.conference)} {row.year}, {_link(row.doc_id, row.unit_id)}"
        lines.append(f"- {md_escape(row.text)} ({place})")
    recs = data["recommendations"]
    lines += ["", "## Recommendations by actor", ""]
    if recs.empty:
        lines.append("No recommendations table: run the extract stage.")
    else:
        firsts = data["unit_themes"].drop_duplicates("doc_id")
        conf_of = dict(
            zip(firsts["doc_id"], firsts["conference"] + " " + firsts["year"].astype(str), strict=True)
        )
        recs = recs.assign(conf=recs["doc_id"].map(lambda d: conf_of.get(d, "")))
        table = recs.pivot_table(
            index="actor", columns="conf", values="unit_id", aggfunc="count", fill_value=0
        )
        columns = list(table.columns)
        lines.append("| actor | " + " | ".join(md_escape(c) for c in columns) + " |")
        lines.append("|---|" + "---|" * len(columns))
        for actor in sorted(table.index, key=lambda a: (-table.loc[a].sum(), a)):
            lines.append(
                f"| {md_escape(actor or 'unspecified')} | "
                + " | ".join(str(int(table.loc[actor, c])) for c in columns)
                + " |"
            )
    counts = data["entity_counts"]
    lines += ["", "## Who was named (mentions)", ""]
    if counts.empty:
        lines.append("No entities table: run the extract stage.")
    for conf in data.conferences.itertuples(index=False):
        if counts.empty:
            break
        mine = counts[counts["conference_order"] == conf.conference_order]
        lines.append(f"- **{md_escape(conf.conference_label)}**")
        for label, group in mine.groupby("label", sort=True):
            group = group.sort_values(["n_mentions", "canonical"], ascending=[False, True])
            names = ", ".join(
                f"{md_escape(r.canonical)} ({int(r.n_mentions)})" for r in group.head(10).itertuples()
            )
            lines.append(
                f"  - {label}: {names}" + (f" … and {len(group) - 10} more" if len(group) > 10 else "")
            )
    return "\n".join(lines).rstrip() + "\n"
