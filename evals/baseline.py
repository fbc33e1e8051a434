"""A plain BM25 ranking over the very same chunks: the simplest strong baseline (bm25s, English stop words)."""

from __future__ import annotations

import bm25s

from bot.types import Chunk


class BM25Baseline:
    """bm25s with its default tokenizer over each chunk's title, section and text."""

    name = "bm25"

    def __init__(self, chunks: list[Chunk]) -> None:
        self.chunks = chunks
        self.retriever = bm25s.BM25()
        tokens = bm25s.tokenize([c.embed_text() for c in chunks], stopwords="en", show_progress=False)
        self.retriever.index(tokens, show_progress=False)

    def rank_docs(self, query: str, k: int = 60) -> list[str]:
        """Document ids, best first (first occurrence of their chunks)."""
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        k = min(k, len(self.chunks))
        results, scores = self.retriever.retrieve(tokens, k=k, show_progress=False)
        docs = [self.chunks[int(i)].doc_id for i, s in zip(results[0], scores[0], strict=True) if s > 0]
        return list(dict.fromkeys(docs))
