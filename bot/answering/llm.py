"""The OpenAI-compatible back-end (OpenAI, Azure, vLLM, Ollama, llama.cpp server) through the `openai` client.

Passages are fenced as quoted data with their numbers; the model is asked to cite [n] after each claim.
Whether to refuse is decided by the Assistant (answerability evidence and sentence support), not by the
prompt; a reply holding the no-support phrase still counts as the model's "no". Any transport or protocol
failure becomes LLMUnavailable, which the Assistant turns into the offline answer with a visible notice.
"""

from __future__ import annotations

import html
from collections.abc import Iterator

import openai

from bot.answering import AnswerDraft
from bot.config import LLMAnswerConfig
from bot.errors import LLMUnavailable
from bot.lexical import sentences, term_set
from bot.prompts import CONDENSE_PROMPT, NO_SUPPORT, PASSAGE_TEMPLATE, SYSTEM_PROMPT, USER_TEMPLATE
from bot.safety import neutralise_instructions
from bot.types import Chunk

_DEFAULTS = LLMAnswerConfig()  # the sizes build_components passes from Settings.remote_llm / local_llm


def _reason(exc: Exception) -> str:
    if isinstance(exc, openai.APITimeoutError):
        return "timed out"
    if isinstance(exc, openai.APIConnectionError):
        return "connection failed"
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    return f"bad response ({type(exc).__name__})"


def focus_text(text: str, question: str, max_words: int | None) -> str:
    """The passage's sentences that share most of the question's terms, with their neighbours, in order.

    A small model on 2 cores reads ~80 prompt tokens/s: sending the answer-bearing part of each passage
    instead of all of it keeps the first token within seconds. `None` keeps the whole passage.
    """
    sents = sentences(text)
    if max_words is None or sum(len(s.split()) for s in sents) <= max_words:
        return text
    wanted = term_set(question)
    ranked = sorted(range(len(sents)), key=lambda i: (-len(term_set(sents[i]) & wanted), i))
    keep: set[int] = set()
    words = 0
    for i in ranked:
        for j in (i, i + 1, i - 1):  # the sentence, then what follows it (lists, figures), then its lead-in
            if 0 <= j < len(sents) and j not in keep and words + len(sents[j].split()) <= max_words:
                keep.add(j)
                words += len(sents[j].split())
        if words >= max_words * 0.8:
            break
    return " … ".join(sents[i] for i in sorted(keep)) if keep else " ".join(text.split()[:max_words])


def build_messages(
    question: str, passages: list[Chunk], history: list[dict[str, str]], max_words: int | None = None
) -> list[dict[str, str]]:
    """System prompt, the last turns, and the user message with fenced, numbered passages.

    The refusal phrase is asked for in the system prompt only: a small model given it as the last words of
    the user message tends to repeat it whatever the passages say.
    """
    fenced = "\n".join(
        PASSAGE_TEMPLATE.format(
            n=i + 1,
            title=html.escape(c.title, quote=True),
            location=html.escape(f"p. {c.page}" if c.page is not None else c.section, quote=True),
            # the fence cannot be closed from inside a passage
            text=neutralise_instructions(focus_text(c.text, question, max_words)).replace("</passage>", "</ passage>"),
        )
        for i, c in enumerate(passages)
    )
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for turn in history[-4:]:
        if turn.get("role") in ("user", "assistant") and turn.get("content"):
            messages.append({"role": turn["role"], "content": turn["content"][:2000]})
    messages.append({"role": "user", "content": USER_TEMPLATE.format(passages=fenced, question=question)})
    return messages


class LLMAnswerer:
    """Streams an answer from a chat-completions endpoint."""

    name = "llm"

    def __init__(
        self,
        client: openai.OpenAI,
        model: str,
        max_tokens: int = _DEFAULTS.max_tokens,
        temperature: float = _DEFAULTS.temperature,
        passage_words: int | None = None,
        max_passages: int | None = None,
    ) -> None:
        self.client = client
        self.model = model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.passage_words = passage_words  # None: whole passages (large remote models)
        self.max_passages = max_passages  # None: every passage given; a small CPU model reads the first few

    def stream(self, question: str, passages: list[Chunk], history: list[dict[str, str]]) -> Iterator[str]:
        """Yield text pieces; raise LLMUnavailable on any failure (also mid-stream)."""
        try:
            stream = self.client.chat.completions.create(
                model=self.model,
                messages=build_messages(question, passages[: self.max_passages], history, self.passage_words),  # type: ignore[arg-type]
                max_tokens=self.max_tokens,
                temperature=self.temperature,
                stream=True,
            )
            produced = finished = False
            for event in stream:
                if not getattr(event, "choices", None):
                    continue
                choice = event.choices[0]
                finished = finished or bool(choice.finish_reason)
                piece = choice.delta.content if choice.delta else None
                if piece:
                    produced = True
                    yield piece
            if not produced:  # e.g. a 200 reply that is not an event stream at all
                raise LLMUnavailable("bad response (empty or malformed)")
            if not finished:  # the connection ended mid-answer
                raise LLMUnavailable("bad response (the answer stopped mid-stream)")
        except LLMUnavailable:
            raise
        except Exception as exc:  # openai errors, httpx errors, malformed JSON/SSE
            raise LLMUnavailable(_reason(exc)) from exc

    def answer(self, question: str, passages: list[Chunk], history: list[dict[str, str]]) -> AnswerDraft:
        """The whole answer (non-streaming callers)."""
        text = "".join(self.stream(question, passages, history))
        return AnswerDraft(text=text, refused=NO_SUPPORT.lower() in text.lower(), backend=self.name)

    def condense(self, question: str, history: list[dict[str, str]]) -> str:
        """Rewrite a follow-up into a standalone question."""
        convo = "\n".join(f"{t['role']}: {t['content'][:800]}" for t in history[-6:])
        try:
            res = self.client.chat.completions.create(
                model=self.model,
                messages=[{"role": "user", "content": CONDENSE_PROMPT.format(history=convo, question=question)}],
                max_tokens=80,
                temperature=0.0,
            )
            text = (res.choices[0].message.content or "").strip().splitlines()
        except Exception as exc:
            raise LLMUnavailable(_reason(exc)) from exc
        return text[0].strip() if text and 3 < len(text[0]) < 500 else question


def make_client(base_url: str | None, api_key: str | None, timeout: float) -> openai.OpenAI:
    """An `openai` client for any OpenAI-compatible endpoint; no retries, so failures degrade fast."""
    return openai.OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=0)
