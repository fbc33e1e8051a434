"""HybridRetriever over the in-memory Store (tests/memory_store.py): ranking, filters and exclusions in
milliseconds, with a word-hashing embedder instead of the model."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from bot.lexical import terms
from bot.retrieval import HybridRetriever
from bot.types import Chunk, DocumentRecord, Filters
from tests.memory_store import MemoryStore

DIM = 64


def embed(text: str) -> list[float]:
    """Bag of stemmed words hashed into DIM dimensions, unit length: texts sharing words are near."""
    v = np.zeros(DIM)
    for t in terms(text):
        v[int(hashlib.md5(t.encode()).hexdigest(), 16) % DIM] += 1.0
    return (v / (np.linalg.norm(v) or 1.0)).tolist()


LIBRARY = {
    "vouchers-lombardy": ("Italy", "Lombardy", ["innovation vouchers"], "Innovation vouchers for SMEs in Lombardy."),
    "vouchers-occitanie": ("France", "Occitanie", ["innovation vouchers"], "Occitanie grants innovation vouchers."),
    "clusters-occitanie": ("France", "Occitanie", ["clusters"], "Cluster managers in Occitanie meet yearly."),
    "clusters-saxony": ("Germany", "Saxony", ["clusters"], "Saxony connects its clusters across sectors."),
}


@pytest.fixture
def retriever() -> HybridRetriever:
    store = MemoryStore()
    for doc_id, (country, region, topics, text) in LIBRARY.items():
        chunks = [
            Chunk(
                id=f"{doc_id}:v1:{i}",
                text=f"{text} Part {i}.",
                doc_id=doc_id,
                version="v1",
                title=doc_id,
                country=country,
                region=region,
                topics=topics,
                chunk_index=i,
            )
            for i in range(2)
        ]
        store.add_chunks(chunks, [embed(c.embed_text()) for c in chunks], [c.id for c in chunks])
        store.commit_document(DocumentRecord(doc_id=doc_id, version="v1", title=doc_id, n_chunks=2))
    stale = Chunk(
        id="vouchers-lombardy:v2:0",
        text="Innovation vouchers draft never committed.",
        doc_id="vouchers-lombardy",
        version="v2",
        country="Italy",
    )
    store.add_chunks([stale], [embed(stale.text)], ["stale"])
    r = HybridRetriever(store, embed)
    r.refresh(force=True)
    return r


def test_the_best_matching_document_comes_first(retriever: HybridRetriever) -> None:
    got = retriever.retrieve("innovation vouchers in Lombardy", k=4)
    assert got.chunks[0].doc_id == "vouchers-lombardy"
    assert all(c.version == "v1" for c in got.chunks + got.dense + got.lexical), "an uncommitted version never shows"


@pytest.mark.parametrize(
    "filters",
    [
        Filters(country="France"),
        Filters(topic="clusters"),
        Filters(country="France", topic="clusters"),
        Filters(region="Saxony"),
    ],
)
def test_filters_apply_to_dense_lexical_and_fused(retriever: HybridRetriever, filters: Filters) -> None:
    got = retriever.retrieve("innovation vouchers clusters Occitanie Saxony", k=8, filters=filters)
    assert got.chunks
    assert all(filters.matches(c) for c in got.chunks + got.dense + got.lexical)


def test_excluded_documents_are_left_out(retriever: HybridRetriever) -> None:
    got = retriever.retrieve("innovation vouchers", k=8, exclude=frozenset({"vouchers-lombardy"}))
    assert got.chunks and "vouchers-lombardy" not in {c.doc_id for c in got.chunks + got.dense + got.lexical}
