"""The store seam: what ingest, retrieval, the CLI and the evals need from a chunk store.

`bot.store.ChunkStore` (Chroma, embedded or server) implements it; `tests/store_conformance.py` is the
one test class every implementation must pass (after Haystack's `haystack/testing/document_store.py`),
metadata filters included. Nothing here names Chroma: records are the typed ones of `bot.types`.

Visibility contract: chunks and sentence vectors written for a document version are invisible to
readers (`current_chunks`, `query`, ...) until `commit_document` makes that version current, so a
document is always either fully old or fully new; `repair` removes what an interrupted run left behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

from bot.types import Chunk, DocumentRecord, Filters, SentenceVectors


@runtime_checkable
class Store(Protocol):
    """Chunks, their vectors and one record per document of one library."""

    description: str  # where the store is, for people ("embedded index at ...", "Chroma server at ...")

    # ---- documents: the committed versions ------------------------------------------------------
    def documents(self) -> dict[str, DocumentRecord]:
        """Every committed document record, by id."""
        ...

    def commit_document(self, record: DocumentRecord) -> None:
        """Make `record.version` the document's current version (the single atomic step)."""
        ...

    def commits_together(self) -> AbstractContextManager[None]:
        """A block whose `commit_document` calls take effect together when it ends without an error (none of
        them otherwise): one write for a batch of documents, each still switching in one step."""
        ...

    def remove_document(self, doc_id: str) -> None:
        """Forget a document: its record first (readers stop seeing it), then its chunks and sentences."""
        ...

    # ---- chunks -----------------------------------------------------------------------------------
    def add_chunks(
        self, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]], embed_hashes: Sequence[str]
    ) -> None:
        """Write chunks with their vectors (invisible until their document version is committed)."""
        ...

    def delete_chunks(self, doc_id: str, except_version: str | None = None) -> None:
        """Delete a document's chunks and sentence vectors (all of them, or all but one version)."""
        ...

    def cached_embeddings(self, embed_hashes: Iterable[str]) -> dict[str, list[float]]:
        """Vectors already stored under these embed hashes (any document or version): the embed cache."""
        ...

    def current_chunks(self) -> list[Chunk]:
        """Every chunk of every committed version, ordered by (doc_id, chunk_index)."""
        ...

    def current_chunks_with_embeddings(self) -> list[tuple[Chunk, list[float], str]]:
        """(chunk, vector, embed hash) of every current chunk (copying an index)."""
        ...

    def query(
        self,
        embedding: Sequence[float],
        k: int,
        filters: Filters | None = None,
        current: dict[str, DocumentRecord] | None = None,
    ) -> list[Chunk]:
        """The k nearest current chunks passing `filters` (`Filters.matches`), score = cosine similarity.

        `current` is the caller's copy of `documents()`, to spare a read per query.
        """
        ...

    # ---- sentence vectors (computed at ingest, read at question time) ------------------------------
    def add_sentence_vectors(self, rows: Sequence[SentenceVectors]) -> None:
        """Write chunks' candidate sentences and their vectors (one row per chunk, keyed by chunk id)."""
        ...

    def sentence_vectors(self, chunk_ids: Sequence[str]) -> dict[str, SentenceVectors]:
        """The stored sentence rows of these chunks, by chunk id (chunks without any are left out)."""
        ...

    def document_sentence_vectors(self, doc_id: str) -> dict[str, list[float]]:
        """Every stored sentence vector of a document (any version), by sentence text."""
        ...

    # ---- upkeep and diagnosis ---------------------------------------------------------------------
    def repair(self) -> int:
        """Delete chunks and sentence rows of no committed version; return how many chunks went."""
        ...

    def reset(self) -> None:
        """Drop everything and start empty."""
        ...

    def count_chunks(self) -> int:
        """Raw number of stored chunks (current and stale)."""
        ...

    def count_sentence_records(self) -> int:
        """Raw number of stored sentence rows."""
        ...

    def raw_chunk_versions(self) -> list[tuple[str, str, str]]:
        """(chunk id, doc_id, version) of every stored chunk, current or not."""
        ...
