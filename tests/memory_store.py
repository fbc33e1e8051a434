"""An in-memory `Store` for fast unit tests: exact cosine search over numpy arrays, nothing on disk.

It passes the same conformance suite as the Chroma store (tests/test_store_conformance.py), so a test
that only needs some chunks to retrieve can use it instead of a temp Chroma.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

import numpy as np

from bot.types import Chunk, DocumentRecord, Filters, SentenceVectors


class MemoryStore:
    """Chunks, vectors, sentence rows and document records in dicts (one process, not thread-safe)."""

    description = "in-memory store"

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Drop everything and start empty."""
        self._records: dict[str, DocumentRecord] = {}
        self._chunks: dict[str, tuple[Chunk, np.ndarray, str]] = {}
        self._sentences: dict[str, SentenceVectors] = {}
        self._held: dict[str, DocumentRecord] | None = None

    # ---- documents ------------------------------------------------------------------------------
    def documents(self) -> dict[str, DocumentRecord]:
        """Every committed document record, by id."""
        return {d: replace(r, topics=list(r.topics)) for d, r in self._records.items()}

    def commit_document(self, record: DocumentRecord) -> None:
        """Make `record.version` the document's current version (at the end of `commits_together()`)."""
        held = replace(record, topics=list(record.topics))
        if self._held is not None:
            self._held[record.doc_id] = held
        else:
            self._records[record.doc_id] = held

    @contextlib.contextmanager
    def commits_together(self) -> Iterator[None]:
        """The block's commits take effect together when it ends without an error (none otherwise)."""
        if self._held is not None:
            yield
            return
        self._held = {}
        try:
            yield
            self._records.update(self._held)
        finally:
            self._held = None

    def remove_document(self, doc_id: str) -> None:
        """Forget a document: its record, then its chunks and sentence rows."""
        self._records.pop(doc_id, None)
        self.delete_chunks(doc_id)

    # ---- chunks ---------------------------------------------------------------------------------
    def add_chunks(
        self, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]], embed_hashes: Sequence[str]
    ) -> None:
        """Write chunks with their vectors (invisible until their version is committed)."""
        for chunk, vec, eh in zip(chunks, embeddings, embed_hashes, strict=True):
            self._chunks[chunk.id] = (replace(chunk, score=0.0), np.asarray(vec, dtype=np.float32), eh)

    def delete_chunks(self, doc_id: str, except_version: str | None = None) -> None:
        """Delete a document's chunks and sentence rows (all of them, or all but one version)."""

        def doomed(d: str, version: str) -> bool:
            return d == doc_id and (except_version is None or version != except_version)

        self._chunks = {i: v for i, v in self._chunks.items() if not doomed(v[0].doc_id, v[0].version)}
        self._sentences = {i: r for i, r in self._sentences.items() if not doomed(r.doc_id, r.version)}

    def cached_embeddings(self, embed_hashes: Iterable[str]) -> dict[str, list[float]]:
        """Vectors stored under these embed hashes (any document or version)."""
        wanted = set(embed_hashes)
        return {eh: vec.tolist() for _, vec, eh in self._chunks.values() if eh in wanted}

    def _current(self, records: dict[str, DocumentRecord] | None = None) -> list[tuple[Chunk, np.ndarray, str]]:
        records = self._records if records is None else records
        rows = [r for r in self._chunks.values() if (rec := records.get(r[0].doc_id)) and rec.version == r[0].version]
        return sorted(rows, key=lambda r: (r[0].doc_id, r[0].chunk_index))

    def current_chunks(self) -> list[Chunk]:
        """Every chunk of every committed version, ordered by (doc_id, chunk_index)."""
        return [replace(c) for c, _, _ in self._current()]

    def current_chunks_with_embeddings(self) -> list[tuple[Chunk, list[float], str]]:
        """(chunk, vector, embed hash) of every current chunk."""
        return [(replace(c), vec.tolist(), eh) for c, vec, eh in self._current()]

    def query(
        self,
        embedding: Sequence[float],
        k: int,
        filters: Filters | None = None,
        current: dict[str, DocumentRecord] | None = None,
    ) -> list[Chunk]:
        """The k nearest current chunks passing the filters, by exact cosine similarity."""
        rows = [r for r in self._current(current) if filters is None or filters.matches(r[0])]
        if not rows:
            return []
        q = np.asarray(embedding, dtype=np.float32)
        matrix = np.stack([vec for _, vec, _ in rows])
        cosines = matrix @ q / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(q) + 1e-12)
        order = np.argsort(-cosines, kind="stable")[:k]
        return [replace(rows[i][0], score=float(cosines[i])) for i in order]

    # ---- sentence vectors -----------------------------------------------------------------------
    def add_sentence_vectors(self, rows: Sequence[SentenceVectors]) -> None:
        """Write chunks' sentences and vectors, one row per chunk."""
        for r in rows:
            self._sentences[r.chunk_id] = replace(r, texts=list(r.texts), vectors=np.array(r.vectors, dtype="<f4"))

    def sentence_vectors(self, chunk_ids: Sequence[str]) -> dict[str, SentenceVectors]:
        """The stored rows of these chunks, by chunk id."""
        return {i: replace(self._sentences[i]) for i in dict.fromkeys(chunk_ids) if i in self._sentences}

    def document_sentence_vectors(self, doc_id: str) -> dict[str, list[float]]:
        """Every stored sentence vector of a document (any version), by sentence text."""
        found: dict[str, list[float]] = {}
        for r in self._sentences.values():
            if r.doc_id == doc_id:
                found.update({t: list(v) for t, v in zip(r.texts, r.vectors.tolist(), strict=True)})
        return found

    # ---- upkeep ---------------------------------------------------------------------------------
    def repair(self) -> int:
        """Delete chunks and sentence rows of no committed version; return how many chunks went."""
        current = {c.id for c, _, _ in self._current()}
        stale = [i for i in self._chunks if i not in current]
        for i in stale:
            del self._chunks[i]
        self._sentences = {i: r for i, r in self._sentences.items() if i in current}
        return len(stale)

    def count_chunks(self) -> int:
        """Raw number of stored chunks (current and stale)."""
        return len(self._chunks)

    def count_sentence_records(self) -> int:
        """Raw number of stored sentence rows."""
        return len(self._sentences)

    def raw_chunk_versions(self) -> list[tuple[str, str, str]]:
        """(chunk id, doc_id, version) of every stored chunk."""
        return [(i, c.doc_id, c.version) for i, (c, _, _) in self._chunks.items()]
