"""ask(): validate → condense follow-up → retrieve → decide answerability → answer → check citations → Answer.

Just over 300 lines: the one place where the steps meet (evidence, the model's stream, the support check
and their combined outcome), each step itself living in its own module.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterator
from typing import Any

from bot.answering import AnswerDraft, Answerer
from bot.citations import MARKER
from bot.config import AskConfig
from bot.conversation import condense
from bot.errors import LLMUnavailable, QuestionRejected
from bot.evidence import CachedEmbed
from bot.lexical import guess_language
from bot.prompts import (
    EMPTY_LIBRARY_TEXT,
    LLM_DOWN_NOTICE,
    MODEL_DISAGREES_NOTICE,
    NO_SUPPORT,
    REFUSAL_TEXT,
    UNSAFE_LLM_NOTICE,
)
from bot.refusal import Evidence, RefusalConfig, assess
from bot.rerank import Reranker
from bot.retrieval import HybridRetriever, Retrieval
from bot.safety import is_instruction, leaks_system_prompt
from bot.support import SupportCheck, check_support
from bot.types import Answer, Citation, Filters


def clean_question(question: object, limit: int) -> str:
    """Normalise a question or reject it with a message a person understands."""
    if not isinstance(question, str):
        raise QuestionRejected("The question must be text.")
    text = question.encode("utf-8", "replace").decode("utf-8")  # lone surrogates → U+FFFD
    text = "".join(ch if unicodedata.category(ch)[0] != "C" or ch in "\n\t" else " " for ch in text)
    text = " ".join(text.split())
    if not text:
        raise QuestionRejected("Please type a question.")
    if len(text) > limit:
        raise QuestionRejected(
            f"The question is too long ({len(text):,} characters; the limit is {limit:,}). "
            "Please shorten it to the question itself."
        )
    return text


def check_citations(text: str, n_passages: int) -> tuple[str, list[int]]:
    """Drop [n] that name no passage; renumber the rest 1..m by first use. Returns (text, passage indices)."""
    order: list[int] = []

    def renumber(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if not 1 <= n <= n_passages:
            return ""
        if n - 1 not in order:
            order.append(n - 1)
        return f"[{order.index(n - 1) + 1}]"

    cleaned = MARKER.sub(renumber, text)
    cleaned = re.sub(r"(\[\d+\])(?:\1)+", r"\1", cleaned)
    cleaned = re.sub(r"[ \t]+([.,;:])", r"\1", re.sub(r"[ \t]{2,}", " ", cleaned)).strip()
    return cleaned, order


def _sentence_records(support: SupportCheck, used: list[int]) -> list[dict[str, Any]]:
    """Per-sentence support for the JSON and the UI, with citation numbers as renumbered in the text."""

    def renumber(m: re.Match[str]) -> str:
        p = int(m.group(1)) - 1
        return f"[{used.index(p) + 1}]" if p in used else ""

    return [
        {
            "text": MARKER.sub(renumber, s.text),
            "citation": used.index(s.passage) + 1 if s.passage is not None and s.passage in used else None,
            "support": None if s.support is None else round(s.support, 3),
            "flags": s.flags,
        }
        for s in support.sentences
    ]


class Assistant:
    """The one entry point used by the UI, the CLI and the evals."""

    def __init__(
        self,
        retriever: HybridRetriever,
        offline: Answerer,
        llm: Answerer | None = None,
        refusal: RefusalConfig | None = None,
        config: AskConfig | None = None,
        condenser: object | None = None,
    ) -> None:
        self.retriever = retriever
        self.offline = offline
        self.llm = llm
        self.refusal = refusal or RefusalConfig()
        self.config = config or AskConfig()
        self.condenser = condenser
        self.reranker = Reranker.load()
        # one sentence-embedding cache for the evidence step and the extractive answerer
        embed = getattr(offline, "embed", None)
        self.embed_texts = CachedEmbed(embed) if embed is not None else None
        if self.embed_texts is not None:
            offline.embed = self.embed_texts  # type: ignore[attr-defined]
            self.refusal.embed = self.embed_texts

    def warm_up(self) -> None:
        """Load models and the lexical index before the first user waits for them."""
        guess_language("innovation vouchers for SMEs")  # py3langid's model: 0.6 s on the first question otherwise
        self.retriever.refresh(force=True)
        for _ in range(2):
            self.retriever.embed_query("innovation vouchers for SMEs")

    def _standalone(self, question: str, history: list[dict[str, str]]) -> str:
        if not history:
            return question
        rewrite = getattr(self.condenser, "condense", None)
        if rewrite is not None:
            try:
                return str(rewrite(question, history)) or condense(question, history)
            except LLMUnavailable:
                pass
        return condense(question, history)

    def prepare(
        self,
        question: str,
        history: list[dict[str, str]] | None = None,
        filters: Filters | None = None,
        exclude: frozenset[str] = frozenset(),
    ) -> tuple[str, list[dict[str, str]], str, Retrieval, Evidence, dict[str, float]]:
        """Validate, condense and retrieve; returns what answering needs."""
        t0 = time.perf_counter()
        q = clean_question(question, self.config.max_question_chars)
        hist = [
            {"role": str(t.get("role", "")), "content": str(t.get("content", ""))[:4000]}
            for t in (history or [])[-self.config.max_history_turns :]
            if isinstance(t, dict)
        ]
        standalone = self._standalone(q, hist)
        t1 = time.perf_counter()
        retrieval = self.retriever.retrieve(standalone, k=self.config.retrieve_k, filters=filters, exclude=exclude)
        t2 = time.perf_counter()
        evidence = assess(
            standalone,
            retrieval,
            self.retriever.lexical_index,
            self.refusal,
            passages=self.config.passages,
            embed=self.embed_texts,
        )
        self._rerank(retrieval, evidence)
        t3 = time.perf_counter()
        timings = {
            "condense_ms": (t1 - t0) * 1000,
            "retrieve_ms": (t2 - t1) * 1000,
            "evidence_ms": (t3 - t2) * 1000,
            **retrieval.timings,
        }
        return q, hist, standalone, retrieval, evidence, timings

    def _rerank(self, retrieval: Retrieval, evidence: Evidence) -> None:
        """Put the passage whose sentences best answer the question first (bot/rerank.py); keep the features."""
        n = len(evidence.passages)
        evidence.passages = [
            {"doc_id": c.doc_id, **f} for c, f in zip(retrieval.chunks[:n], evidence.passages, strict=True)
        ]
        if self.reranker is None or n < 2 or evidence.features.get("foreign"):
            return  # other languages: the lexical evidence cannot match English passages; keep the fused order
        order = self.reranker.order(evidence.passages)
        retrieval.chunks = [retrieval.chunks[i] for i in order] + retrieval.chunks[n:]

    def ask(
        self,
        question: str,
        history: list[dict[str, str]] | None = None,
        filters: Filters | None = None,
        exclude: frozenset[str] = frozenset(),
    ) -> Answer:
        """Answer a question with numbered citations, or refuse honestly (`exclude`: see HybridRetriever.retrieve)."""
        final: Answer | None = None
        for partial in self.ask_stream(question, history, filters, exclude=exclude):
            final = partial
        assert final is not None
        return final

    def ask_stream(
        self,
        question: str,
        history: list[dict[str, str]] | None = None,
        filters: Filters | None = None,
        exclude: frozenset[str] = frozenset(),
    ) -> Iterator[Answer]:
        """Yield partial Answers while the text streams in; the last one is final and post-checked."""
        start = time.perf_counter()
        q, hist, standalone, retrieval, evidence, timings = self.prepare(question, history, filters, exclude)
        if not self.retriever.records:
            yield self._empty_library(q, standalone, timings, start)
            return
        passages = retrieval.chunks[: self.config.passages]
        if not evidence.answerable:
            yield self._refusal(q, standalone, retrieval, timings, start, evidence)
            return
        t0 = time.perf_counter()
        notice = ""
        draft: AnswerDraft | None = None
        if self.llm is not None:
            # the evidence first: the passages the model reads are shown while it writes
            provisional = [Citation.from_chunk(i + 1, c) for i, c in enumerate(passages)]
            yield Answer(
                question=q,
                text="",
                citations=provisional,
                chunks=retrieval.chunks,
                standalone_question=standalone,
                backend=self.llm.name,
            )
            try:
                text = ""
                for piece in self.llm.stream(q if not hist else standalone, passages, hist):
                    text += piece
                    yield Answer(
                        question=q,
                        text=text,
                        citations=provisional,
                        chunks=retrieval.chunks,
                        standalone_question=standalone,
                        backend=self.llm.name,
                    )
                draft = AnswerDraft(text=text, backend=self.llm.name, refused=NO_SUPPORT.lower() in text.lower())
                if leaks_system_prompt(text) or is_instruction(text):
                    draft, notice = None, UNSAFE_LLM_NOTICE
            except LLMUnavailable as exc:
                notice = LLM_DOWN_NOTICE.format(reason=exc)
        if draft is None:
            draft = self.offline.answer(standalone, passages, hist)
        timings["answer_ms"] = (time.perf_counter() - t0) * 1000
        t1 = time.perf_counter()
        # a model's sentences are checked against the passages; the offline answer quotes them verbatim
        checked = not draft.refused and draft.backend != self.offline.name
        support = check_support(draft.text, passages, self.embed_texts) if checked else None
        text, used = check_citations(support.text if support else draft.text, len(passages))
        timings["support_ms"] = (time.perf_counter() - t1) * 1000
        from_model = draft.backend != self.offline.name
        if (draft.refused or not used) and from_model and evidence.outcome == "answered":
            # the model and the answerability decision combined: the model's "no" (or a reply no passage
            # supports) against strong evidence gives the passages' own sentences with a caution, not a refusal
            draft, support, notice = self.offline.answer(standalone, passages, hist), None, MODEL_DISAGREES_NOTICE
            text, used = check_citations(draft.text, len(passages))
            evidence.outcome = "caution"
        if draft.refused or not used:
            refusal = self._refusal(q, standalone, retrieval, timings, start, evidence)
            refusal.notice = notice
            refusal.backend = draft.backend
            yield refusal
            return
        citations = [Citation.from_chunk(i + 1, passages[p]) for i, p in enumerate(used)]
        timings["total_ms"] = (time.perf_counter() - start) * 1000
        caution = evidence.outcome == "caution"  # shown from `outcome` (the notice is the LLM's)
        yield Answer(
            question=q,
            text=text,
            citations=citations,
            refused=False,
            chunks=retrieval.chunks,
            timings=timings,
            standalone_question=standalone,
            backend=draft.backend,
            notice=notice,
            outcome="caution" if caution else "answered",
            evidence=evidence.features | {"probability": evidence.probability},
            passage_evidence=evidence.passages,
            suggestions=_nearest(retrieval) if caution else [],
            sentences=_sentence_records(support, used) if support else [],
        )

    def _empty_library(self, q: str, standalone: str, timings: dict[str, float], start: float) -> Answer:
        timings["total_ms"] = (time.perf_counter() - start) * 1000
        return Answer(
            question=q,
            text=EMPTY_LIBRARY_TEXT,
            refused=True,
            timings=timings,
            standalone_question=standalone,
            outcome="empty",
        )

    def _refusal(
        self,
        q: str,
        standalone: str,
        retrieval: Retrieval,
        timings: dict[str, float],
        start: float,
        evidence: Evidence | None = None,
    ) -> Answer:
        timings["total_ms"] = (time.perf_counter() - start) * 1000
        return Answer(
            question=q,
            text=REFUSAL_TEXT,
            refused=True,
            outcome="not_covered",
            chunks=retrieval.chunks,
            timings=timings,
            standalone_question=standalone,
            suggestions=_nearest(retrieval),
            evidence=(evidence.features | {"probability": evidence.probability}) if evidence else {},
            passage_evidence=evidence.passages if evidence else [],
        )


def _nearest(retrieval: Retrieval) -> list[dict[str, str]]:
    """Up to three nearest documents to look at."""
    suggestions: list[dict[str, str]] = []
    seen: set[str] = set()
    for chunk in retrieval.chunks:
        if chunk.doc_id not in seen:
            seen.add(chunk.doc_id)
            suggestions.append({"doc_id": chunk.doc_id, "title": chunk.title, "source_url": chunk.source_url})
        if len(suggestions) == 3:
            break
    return suggestions
