"""The offline answer: the sentences of the top passages that best answer the question, cited.

Sentences are scored by dense similarity to the question (the same multilingual embedder), idf-weighted
overlap with the question's key terms (the asking sentence weighs more than its context), the rank of their
passage, and a bonus when the sentence holds the answer type asked for (an amount for "how many", a date
for "when": bot/answer_types.py); for questions asking for several practices, regions or schemes, the best
sentence of each document comes first, so the answer covers several documents; near-duplicates are dropped
(maximal marginal relevance on term overlap); the chosen sentences are ordered by passage and position
and joined with [n] after each. Sentences that address an assistant (prompt injection) are never quoted.
Written by hand: no maintained library does query-focused extractive answering with citations offline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from bot.answer_types import expected_type, has_type
from bot.answering import AnswerDraft
from bot.citations import as_sentence, cite
from bot.config import ExtractiveConfig
from bot.evidence import term_weights
from bot.lexical import guess_language, sentences, term_set
from bot.safety import is_instruction
from bot.types import Chunk


@dataclass
class _Candidate:
    passage: int
    position: int
    text: str
    terms: set[str]
    score: float = 0.0


class ExtractiveAnswerer:
    """Query-focused sentence extraction over the top passages."""

    name = "offline"

    def __init__(
        self,
        embed: Callable[[list[str]], np.ndarray] | None = None,
        idf: Callable[[str], float] | None = None,
        config: ExtractiveConfig | None = None,
        passage_terms: Callable[[Chunk], frozenset[str] | set[str]] | None = None,
    ) -> None:
        self.embed = embed
        self.idf = idf or (lambda t: 1.0)
        self.passage_terms = passage_terms or (lambda chunk: term_set(chunk.embed_text()))
        self.config = config or ExtractiveConfig()

    def _candidates(self, passages: Sequence[Chunk]) -> list[_Candidate]:
        out = []
        for p, chunk in enumerate(passages):
            for i, sent in enumerate(sentences(chunk.text)):
                words = sent.split()
                if len(words) < 4 or len(words) > 80 or is_instruction(sent):
                    continue
                if sent.rstrip().endswith(":") and len(words) < 12:
                    continue  # a lead-in such as "Innovation vouchers have three main objectives:"
                out.append(_Candidate(passage=p, position=i, text=sent, terms=term_set(sent)))
        return out

    def select(self, question: str, passages: Sequence[Chunk]) -> list[_Candidate]:
        """The chosen sentences in reading order."""
        cfg = self.config
        cands = self._candidates(passages)
        if not cands:
            return []
        weights = term_weights(question, self.idf)
        total = sum(weights.values()) or 1.0
        kind = expected_type(question) if guess_language(question) == "en" else None
        dense = np.zeros(len(cands))
        if self.embed is not None:
            vecs = self.embed([question, *[c.text for c in cands]])
            dense = np.clip(vecs[1:] @ vecs[0], 0.0, 1.0)
        # a sentence is only as relevant as its passage: one from a passage without the question's key
        # terms ("ClusterFY") must not win on generic words ("lead partner")
        passage_terms = [self.passage_terms(p) for p in passages]
        passage_cov = [sum(w for t, w in weights.items() if t in pt) / total for pt in passage_terms]
        for c, d in zip(cands, dense, strict=True):
            overlap = sum(w for t, w in weights.items() if t in c.terms) / total
            base = cfg.w_dense * float(d) + cfg.w_terms * overlap + cfg.w_rank / (1 + c.passage)
            if kind and overlap > 0 and has_type(c.text, kind):
                base += cfg.w_type
            c.score = base * (1 - cfg.passage_focus + cfg.passage_focus * passage_cov[c.passage])
        ranked = sorted(cands, key=lambda c: -c.score)
        best = ranked[0].score
        if asks_for_several(question):  # the best sentence of each document first, then the rest
            first: dict[str, _Candidate] = {}
            for c in ranked:
                first.setdefault(passages[c.passage].doc_id, c)
            firsts = {id(c) for c in first.values()}
            ranked = [*first.values(), *(c for c in ranked if id(c) not in firsts)]
        chosen: list[_Candidate] = []
        words = 0
        for c in ranked:
            if len(chosen) >= cfg.max_sentences:
                break
            if c.score < cfg.relative_floor * best:
                continue
            if any(_jaccard(c.terms, o.terms) > cfg.redundancy for o in chosen):
                continue
            n_words = len(c.text.split())
            if chosen and words + n_words > cfg.max_words:
                continue
            chosen.append(c)
            words += n_words
        return sorted(chosen, key=lambda c: (c.passage, c.position))

    def answer(self, question: str, passages: list[Chunk], history: list[dict[str, str]]) -> AnswerDraft:
        """A short answer of quoted sentences, each followed by its passage number."""
        chosen = self.select(question, passages)
        if not chosen:
            return AnswerDraft(text="", refused=True, backend=self.name)
        parts = [cite(as_sentence(c.text), c.passage + 1) for c in chosen]
        return AnswerDraft(text=" ".join(parts), backend=self.name)

    def stream(self, question: str, passages: list[Chunk], history: list[dict[str, str]]) -> Iterator[str]:
        """The extractive answer is computed at once; yield it whole."""
        yield self.answer(question, passages, history).text


_SEVERAL = re.compile(
    r"\b(which|what)\s+(?:\w+\s+){0,2}?(regions|countries|cities|practices|good practices|schemes|projects|"
    r"programmes|programs|initiatives|instruments|measures|examples|tools|policies|partners|clusters)\b"
    r"|\bexamples? of\b|\bwhat other\b",
    re.I,
)


def asks_for_several(question: str) -> bool:
    """Whether the question asks for several practices, places or schemes ("Which voucher schemes ...")."""
    return bool(_SEVERAL.search(question))


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
