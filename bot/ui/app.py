"""The Gradio Blocks app: the Ask tab (chat, filters, sources panel) and the named API endpoint `ask`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import gradio as gr

from bot.components import Components
from bot.errors import HelpdeskError
from bot.types import Answer, Filters
from bot.ui.render import answer_markdown, citations_json, filter_choices, sources_html

EXAMPLES = [
    "How did other regions use innovation vouchers to get SMEs working with universities?",
    "Which three policy instruments does C3-Saxony use to foster cross-cluster collaboration?",
    "What is the entrepreneurial discovery process in smart specialisation?",
    "Which Interreg Europe projects deal with waste management?",
]

CSS = """
.sources .source {border-left: 3px solid #3b7dd8; padding: 4px 10px; margin-bottom: 10px;}
.sources blockquote {margin: 4px 0; color: #444; font-size: 0.92em;}
.source-meta {color: #666; font-size: 0.85em;}
#status {min-height: 1.5em; color: #555;}
"""


def _filters(country: str | None, doc_type: str | None, topic: str | None) -> Filters | None:
    f = Filters(country=country or None, doc_type=doc_type or None, topic=topic or None)
    return None if f.is_empty() else f


def _history(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    out = []
    for m in messages or []:
        content = m.get("content")
        if isinstance(content, list):
            content = " ".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
        out.append({"role": str(m.get("role", "")), "content": str(content or "")})
    return out


def build_app(comps: Components) -> gr.Blocks:
    """The whole app; tests build it on a temp store and drive it in a real browser."""
    assistant = comps.assistant
    choices = filter_choices(comps.store.documents())

    def respond(
        question: str, chat: list[dict[str, Any]], country: str | None, doc_type: str | None, topic: str | None
    ) -> Iterator[tuple[Any, ...]]:
        chat = list(chat or [])
        history = _history(chat)
        chat.append({"role": "user", "content": question})
        yield chat, "", "⏳ Searching the library…", gr.update()
        final: Answer | None = None
        try:
            for partial in assistant.ask_stream(question, history, _filters(country, doc_type, topic)):
                final = partial
                shown = [*chat, {"role": "assistant", "content": answer_markdown(partial)}]
                yield shown, "", "✍️ Writing the answer…", gr.update()
        except HelpdeskError as exc:
            chat.append({"role": "assistant", "content": f"⚠️ {exc}"})
            yield chat, "", f"⚠️ {exc}", gr.update()
            return
        assert final is not None
        chat.append({"role": "assistant", "content": answer_markdown(final)})
        status = "Not covered by the library." if final.refused else f"Answered from {len(final.citations)} source(s)."
        if final.notice:
            status = "⚠️ Language model unreachable: offline answer shown."
        yield chat, "", status, sources_html(final)

    def api_ask(question: str, history_json: str = "[]", filters_json: str = "{}") -> tuple[str, str]:
        try:
            history = json.loads(history_json or "[]")
            filters = json.loads(filters_json or "{}")
            answer = assistant.ask(
                question, history, Filters(**{k: v for k, v in filters.items() if k in Filters.__dataclass_fields__})
            )
        except (HelpdeskError, ValueError, TypeError) as exc:
            return f"⚠️ {exc}", "[]"
        return answer_markdown(answer), citations_json(answer)

    with gr.Blocks(title="Policy Helpdesk Assistant") as app:
        gr.Markdown("## Policy Helpdesk Assistant\nAsk about good practices, policy briefs and helpdesk replies.")
        with gr.Tab("Ask", id="ask-tab"), gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    label="Conversation",
                    elem_id="chat",
                    height=460,
                    sanitize_html=True,
                    placeholder="Ask a question about regional policy practices, or pick an example below.",
                )
                question = gr.Textbox(
                    label="Your question", elem_id="question", placeholder="e.g. " + EXAMPLES[0], lines=2
                )
                with gr.Row():
                    ask = gr.Button("Ask", variant="primary", elem_id="ask")
                    clear = gr.Button("New conversation", elem_id="clear")
                status = gr.Markdown("", elem_id="status")
                gr.Examples(EXAMPLES, inputs=question, label="Examples")
            with gr.Column(scale=2):
                with gr.Row():
                    country = gr.Dropdown(choices["country"], label="Country", elem_id="f-country", value=None)
                    doc_type = gr.Dropdown(choices["doc_type"], label="Document type", elem_id="f-type", value=None)
                    topic = gr.Dropdown(choices["topic"], label="Topic", elem_id="f-topic", value=None)
                sources = gr.HTML(sources_html(None), elem_id="sources", label="Sources")
        inputs = [question, chat, country, doc_type, topic]
        outputs = [chat, question, status, sources]
        ask.click(respond, inputs, outputs, api_visibility="private")
        question.submit(respond, inputs, outputs, api_visibility="private")
        clear.click(lambda: ([], "", sources_html(None)), None, [chat, status, sources], api_visibility="private")
        gr.api(api_ask, api_name="ask")
    return app
