"""Answer → what the page shows (Markdown for the chat, escaped HTML for the sources panel). No Gradio here."""

from __future__ import annotations

import html
import json
from typing import Any

from bot.citations import MARKER
from bot.drafting import Draft
from bot.prompts import CAUTION_NOTICE
from bot.types import Answer


def escape_markdown_html(text: str) -> str:
    """Neutralise HTML in document/question text shown through Markdown (no tag survives)."""
    return html.escape(text, quote=False)


def answer_markdown(answer: Answer) -> str:
    """The chat message: escaped text with [n] linked to the sources panel; refusals look different."""
    body = escape_markdown_html(answer.text)
    if answer.outcome == "empty":
        text = f"> ⚠ **The library is empty.** {body}"
    elif answer.refused:
        lines = [f"> ⚠ **Not covered by the library.** {body}"]
        if answer.suggestions:
            lines.append("\n**You may also look at:**")
            for s in answer.suggestions:
                title = escape_markdown_html(s["title"])
                lines.append(f"- [{title}]({s['source_url']})" if s.get("source_url") else f"- {title}")
        text = "\n".join(lines)
    else:
        text = MARKER.sub(lambda m: f"[[{m.group(1)}]](#src-{m.group(1)})", body)
        if answer.outcome == "caution":
            text = f"> ⚠ **Partly covered.** {escape_markdown_html(CAUTION_NOTICE)}\n\n{text}"
            if answer.suggestions:
                near = ", ".join(
                    f"[{escape_markdown_html(s['title'])}]({s['source_url']})"
                    if s.get("source_url")
                    else escape_markdown_html(s["title"])
                    for s in answer.suggestions
                )
                text += f"\n\n**Nearest documents:** {near}"
        text += support_markdown(answer)
    if answer.notice:
        text = f"⚠️ *{escape_markdown_html(answer.notice)}*\n\n{text}"
    return text


def support_markdown(answer: Answer) -> str:
    """A model's answer: each sentence's support by its cited passage, and what no passage holds."""
    claims = [s for s in answer.sentences if s.get("support") is not None]
    if not claims:
        return ""
    lines = ["\n\n**Support of each sentence** (1 = the cited passage says it):"]
    for s in claims:
        ok = s["citation"] is not None
        mark = f"[{s['citation']}]" if ok else "unsupported"
        why = f" — {escape_markdown_html('; '.join(s['flags']))}" if s["flags"] else ""
        lines.append(f"- {'✅' if ok else '⚠'} {s['support']:.2f} {mark}: {escape_markdown_html(s['text'][:160])}{why}")
    return "\n".join(lines)


def sources_html(answer: Answer | None) -> str:
    """The sources panel: per citation title, type, place, page/section, quote and link (all escaped)."""
    if answer is None or not answer.citations:
        return '<div class="sources-empty">Sources of the last answer appear here.</div>'
    parts = ['<div class="sources"><div class="sources-title">Sources of the answer</div>']
    for c in answer.citations:
        place = ", ".join(x for x in (c.country, c.region) if x)
        meta = " · ".join(x for x in (c.doc_type.replace("_", " "), place, c.location()) if x)
        link = (
            f'<a href="{html.escape(c.source_url, quote=True)}" target="_blank" rel="noopener noreferrer" '
            f'class="source-link">Open the source ↗</a>'
            if c.source_url.startswith(("http://", "https://"))
            else '<span class="source-link missing">no link</span>'
        )
        quote = html.escape(c.quote[:900] + ("…" if len(c.quote) > 900 else ""))
        parts.append(
            f'<div class="source" id="src-{c.n}" data-country="{html.escape(c.country, quote=True)}">'
            f'<div class="source-head"><b>[{c.n}] {html.escape(c.title)}</b></div>'
            f'<div class="source-meta">{html.escape(meta)}</div>'
            f"<blockquote>{quote}</blockquote>{link}</div>"
        )
    parts.append("</div>")
    return "".join(parts)


def citations_json(answer: Answer) -> str:
    """Citations as JSON for the API endpoint."""
    return json.dumps([c.__dict__ for c in answer.citations], ensure_ascii=False)


def filter_choices(records: dict[str, Any]) -> dict[str, list[str]]:
    """Country, doc type and topic values present in the index."""
    countries, types, topics = set(), set(), set()
    for rec in records.values():
        if rec.country:
            countries.add(rec.country)
        if rec.doc_type:
            types.add(rec.doc_type)
        topics.update(rec.topics)
    return {"country": sorted(countries), "doc_type": sorted(types), "topic": sorted(topics)}


def draft_status(draft: Draft) -> str:
    """One line under the Draft button: what the draft contains, or that the library does not cover it."""
    if not draft.covered:
        return "⚠ **Not covered by the library**: the draft says so; add documents in the Library tab."
    practices = sum(len(s.practices) for s in draft.sections)
    return (
        f"✔ Draft ready: {len(draft.sections)} policy-insight section(s), {practices} practice summaries, "
        f"{len(draft.services)} service(s), {len(draft.references)} reference(s). Edit it below, then download."
    )
