"""What the UI's events do, without Gradio: plain values in, plain values out, testable on their own.

bot/ui/app.py wires these to the page. Where a Gradio handler would answer "leave that component as it
is" (`gr.update()`), these return `None`, which the app turns into that update.
"""

from __future__ import annotations

import html
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bot.drafting import draft_reply
from bot.errors import HelpdeskError
from bot.export import export_files
from bot.transfer import TransferFinder, transfer_markdown
from bot.types import Answer, Filters
from bot.ui.render import answer_markdown, citations_json, draft_status, escape_markdown_html, sources_html
from bot.user_input import clean_text, parse_filters, parse_history

if TYPE_CHECKING:  # the server builds the UI before it imports llama-index (bot/deferred.py)
    from bot.components import Components

ASK_STATUS = {
    "empty": "The library is empty: add documents first.",
    "not_covered": "Not covered by the library.",
}


def page_filters(country: str | None, doc_type: str | None, topic: str | None) -> Filters | None:
    """The filter dropdowns as Filters (None when none is set)."""
    f = Filters(
        country=clean_text(country or "") or None,
        doc_type=clean_text(doc_type or "") or None,
        topic=clean_text(topic or "") or None,
    )
    return None if f.is_empty() else f


def chat_messages(messages: Any) -> list[dict[str, str]]:
    """The chat as the page sent it, as plain {"role", "content"} messages with cleaned text (it is echoed)."""
    out = []
    for m in messages if isinstance(messages, list) else []:
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            continue
        content = m.get("content")
        if isinstance(content, list):
            content = " ".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
        out.append({"role": str(m["role"]), "content": clean_text(content or "")})
    return out


def chat_history(chat: list[dict[str, str]]) -> list[dict[str, str]]:
    """The conversation as the Assistant reads it (the chat shows escaped text)."""
    return [{"role": m["role"], "content": html.unescape(m["content"])} for m in chat]


def answer_status(answer: Answer) -> str:
    """The one line under the chat that says what happened."""
    if answer.notice:
        return f"⚠️ {answer.notice}"
    outcome = "not_covered" if answer.refused and answer.outcome != "empty" else answer.outcome
    if outcome == "caution":
        return f"⚠ Partly covered. Answered from {len(answer.citations)} source(s): check them."
    return ASK_STATUS.get(outcome) or f"Answered from {len(answer.citations)} source(s)."


def respond(
    comps: Components,
    question: Any,
    chat: Any,
    country: str | None = None,
    doc_type: str | None = None,
    topic: str | None = None,
) -> Iterator[tuple[list[dict[str, str]], str, str | None]]:
    """The Ask tab: (chat, status, sources HTML or None for "unchanged") after each step of the answer."""
    # cleaned before anything is echoed: a lone surrogate cannot be sent back to the page
    question = clean_text(question) if isinstance(question, str) else ""
    chat = chat_messages(chat)
    if not question.strip():
        yield chat, "⚠️ Please type a question.", None
        return
    history = chat_history(chat)
    chat.append({"role": "user", "content": escape_markdown_html(question)})  # shown as text, never HTML
    yield chat, "Searching the library…", None
    final: Answer | None = None
    try:
        for partial in comps.assistant.ask_stream(question, history, page_filters(country, doc_type, topic)):
            final = partial
            shown = [*chat, {"role": "assistant", "content": answer_markdown(partial) or "…"}]
            # a model's answer streams after its evidence: the passages it reads are shown at once
            sources = sources_html(partial) if partial.citations else None
            yield shown, "Writing the answer from the sources shown…", sources
    except HelpdeskError as exc:
        chat.append({"role": "assistant", "content": f"⚠️ {exc}"})
        yield chat, f"⚠️ {exc}", None
        return
    assert final is not None
    chat.append({"role": "assistant", "content": answer_markdown(final)})
    yield chat, answer_status(final), sources_html(final)


def api_ask(comps: Components, question: Any, history_json: str = "[]", filters_json: str = "{}") -> tuple[str, str]:
    """The named `ask` endpoint: (answer Markdown, citations JSON), or a sentence saying what is wrong."""
    try:
        history = parse_history(history_json)
        filters = parse_filters(filters_json)
        answer = comps.assistant.ask(clean_text(question) if isinstance(question, str) else question, history, filters)
    except HelpdeskError as exc:
        return f"⚠️ {exc}", "[]"
    return answer_markdown(answer), citations_json(answer)


def make_draft(comps: Components, request: str, region: str | None, topic: str | None) -> tuple[str | None, str]:
    """The Draft tab: (draft Markdown or None when it failed, status line)."""
    request, region, topic = clean_text(request or ""), clean_text(region or ""), clean_text(topic or "")
    try:
        draft = draft_reply(comps, request, region=region or None, topic=topic or None)
    except HelpdeskError as exc:
        return None, f"⚠️ {exc}"
    return draft.to_markdown(), draft_status(draft)


def api_draft(comps: Components, request: str, region: str = "", topic: str = "") -> str:
    """The named `draft` endpoint: the draft's Markdown, or a sentence saying what is wrong."""
    text, status = make_draft(comps, request, region, topic)
    return text if text is not None else status


def prepare_downloads(markdown: str, folder: str | None) -> tuple[str | None, str | None, str, str]:
    """The edited draft as .md and .docx files: (md path, docx path, preview Markdown, folder)."""
    markdown = clean_text(markdown or "")  # echoed into the preview
    if not markdown.strip():
        return None, None, "", folder or ""
    folder = folder or tempfile.mkdtemp(prefix="helpdesk-draft-")
    md_path, docx_path = export_files(markdown, folder)
    return str(md_path), str(docx_path), markdown, folder


class PracticeFinder:
    """The transfer tab: the TransferFinder, built on first use over the shared Assistant."""

    def __init__(self, comps: Components) -> None:
        self.comps = comps
        self._finder: TransferFinder | None = None

    def find(self, challenge: str, region: str, country: str) -> tuple[str, str]:
        """(results Markdown, status line)."""
        challenge, region, country = clean_text(challenge or ""), clean_text(region or ""), clean_text(country or "")
        if self._finder is None:
            self._finder = TransferFinder(self.comps.assistant, self.comps.settings.transfer)
        try:
            result = self._finder.find(challenge, region, country)
        except HelpdeskError as exc:
            return "", f"⚠️ {exc}"
        status = f"{len(result.practices)} practice(s) from {len(result.regions())} place(s) other than {region}."
        return transfer_markdown(result, escape_markdown_html), status
