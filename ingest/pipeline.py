"""Carry out the plan: chunks stream through fixed-size store writes; each document commits when all are written.

Documents are loaded and chunked in file order, and their chunks queued. Every `write_batch` queued chunks
(from however many documents, a long one spanning several writes; a run's first writes are smaller) are
embedded in calls of `batch_size` (one embedding-cache look-up), their candidate sentences in calls of
`sentence_batch`, and both written in one store write each. Then every document whose last chunk is now
written is committed: their records switch together, in one store write (`Store.commits_together`), so a
document's record switches only after all of its chunks and sentence vectors are written, and a killed run
leaves each document fully old or fully new; the next run's `repair()` removes what it wrote for
uncommitted documents.

One class of one job (a run: lock, plan, the chunk queue, commits, summary); over 300 lines because the
queue and the per-document commit must be read together to see the crash guarantee.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from bot.errors import IngestBusy, IngestError
from bot.evidence import candidate_sentences
from bot.models import OfflineEmbedding
from bot.store_protocol import Store
from bot.types import Chunk, DocumentRecord, SentenceVectors
from ingest.chunking import Chunker
from ingest.loaders import LoaderLimits
from ingest.loaders.base import LoadedDocument
from ingest.prefetch import loaded_in_order
from ingest.progress import Progress
from ingest.sources import Plan, SourceFile, make_plan, version_of
from ingest.sync_stamp import forget, stamp_path


@dataclass
class IngestSummary:
    """What one run did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    chunks: int = 0
    embedded: int = 0
    repaired: int = 0
    seconds: float = 0.0
    errors: list[IngestError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        """The one-line summary printed after every ingest."""
        return (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"removed {self.removed}, failed {self.failed}, chunks {self.chunks} in {self.seconds:.1f} s"
        )


def embed_hash(model: str, text: str) -> str:
    """Key of the embedding cache: the embedder and the exact text it embeds."""
    return hashlib.sha256(f"{model}\n{text}".encode()).hexdigest()[:40]


@contextlib.contextmanager
def ingest_lock(lock_path: Path, wait: float = 0.0) -> Iterator[None]:
    """One ingest at a time per store: a second waits up to `wait` seconds, then refuses clearly.

    filelock's FileLock (an flock on POSIX, as before); each call opens its own lock, so a second ingest in
    the same process is refused too. The lock file is kept, as the hand-written flock loop kept it.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(lock_path, timeout=wait, poll_interval=0.2, preserve_lock_file=True)
    try:
        lock.acquire()
    except Timeout:
        raise IngestBusy(
            f"another ingest is running on this index (lock {lock_path}); try again when it finishes"
        ) from None
    try:
        yield
    finally:
        lock.release()


# Bump when what is stored beside each chunk changes (every document is then rewritten by the next run;
# chunk vectors come from the embedding cache): s1 = candidate sentences and their vectors.
STORED_LAYOUT = "s1"
FIRST_WRITE = 8  # chunks in a run's first store write; each next one doubles, up to `write_batch`


@dataclass
class _Prepared:
    """A document loaded and chunked, its chunks waiting in the queue to be embedded and written."""

    source: SourceFile
    old: DocumentRecord | None
    existing: DocumentRecord | None
    doc: LoadedDocument
    version: str
    chunks: list[Chunk]
    written: int = 0  # chunks written so far (a long document spans several store writes)
    sentences: dict[str, list[float]] | None = None  # its sentence vectors so far, by text (shared within it)


class IngestPipeline:
    """Files → documents → chunks → embedded and stored, kept in sync with the folder."""

    def __init__(
        self,
        store: Store,
        embedder: OfflineEmbedding,
        chunker: Chunker,
        limits: LoaderLimits | None = None,
        lock_path: Path | None = None,
        batch_size: int = 32,
        write_batch: int | None = None,
        sentence_vectors: bool = True,
        sentence_batch: int | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.chunker = chunker
        self.limits = limits or LoaderLimits()
        self.lock_path = lock_path
        self.batch_size = batch_size
        # chunks (of however many documents) embedded and written in one go: two embedder calls per store write
        self.write_batch = write_batch or 2 * batch_size
        self.sentence_vectors = sentence_vectors
        # sentences per embedder call: about the tokens of `batch_size` chunks (a sentence is ~1/7 of a chunk),
        # so that the embedder's token-packed micro-batches are full rather than a short tail every 32 sentences
        self.sentence_batch = sentence_batch or 8 * batch_size
        self._embedded = 0

    @property
    def signature(self) -> str:
        """Everything besides file content that determines the stored chunks."""
        stored = f"|{STORED_LAYOUT}" if self.sentence_vectors else ""
        return f"{self.chunker.signature}|{self.embedder.model_name}{stored}"

    def plan(self, paths: list[Path]) -> Plan:
        """What `run` would do, without doing it."""
        return make_plan(paths, self.store.documents(), self.signature, self.limits.max_file_mb)

    def run(
        self,
        paths: list[Path],
        reset: bool = False,
        progress: bool = True,
        report: Callable[[str], None] | None = None,
        lock_wait: float = 0.0,
    ) -> IngestSummary:
        """Ingest `paths` (files or folders). Never raises for a bad file: it is counted and reported."""
        ctx = ingest_lock(self.lock_path, lock_wait) if self.lock_path else contextlib.nullcontext()
        with ctx:
            return self._run(paths, reset, progress, report or (lambda msg: None))

    def _run(self, paths: list[Path], reset: bool, progress: bool, report: Callable[[str], None]) -> IngestSummary:
        start = time.perf_counter()
        summary = IngestSummary()
        self._embedded = 0
        if self.lock_path is not None:
            forget(stamp_path(self.lock_path))  # the index may change now: `ingest --if-changed` checks it again
        if reset:
            self.store.reset()
        summary.repaired = self.store.repair()
        plan = self.plan(paths)
        for err in plan.errors:
            summary.errors.append(err)
            report(f"error: {err}")
        summary.unchanged = len(plan.keep)
        summary.chunks = sum(rec.n_chunks for _, rec in plan.keep)
        claimed = {rec.doc_id: f for f, rec in plan.keep}
        records = self.store.documents()  # read once; kept current as documents are committed
        bar = Progress(total=len(plan.load), desc="ingest", unit="file", enabled=progress)
        queue: list[_Prepared] = []  # documents with chunks not yet written, in file order
        queued = 0  # their chunks not yet written
        # the first writes are small and grow to `write_batch` (8, 16, 32, ... chunks): the first documents are
        # committed (visible, and kept by a run killed early) after seconds, not after a full batch
        size = min(FIRST_WRITE, self.write_batch)
        try:
            # PDFs are read one ahead in a loader process while the ones before are embedded (ingest/prefetch.py)
            for source, old, loaded in loaded_in_order(plan.load, self.limits):
                bar.set_postfix_str(source.rel[-40:])
                try:
                    prepared = self._prepare(source, old, loaded, claimed, records)
                except IngestError as err:
                    summary.errors.append(err)
                    report(f"error: {err}")
                    bar.update(1)
                    continue
                queue.append(prepared)
                queued += len(prepared.chunks)
                while queued >= size:
                    queued -= self._write(queue, size, records, summary, bar)
                    size = min(2 * size, self.write_batch)
            while queue:
                queued -= self._write(queue, size, records, summary, bar)
        finally:
            bar.close()
        for rec in plan.remove:
            if rec.doc_id in claimed:
                continue  # its id now belongs to a file found under another name
            self.store.remove_document(rec.doc_id)
            summary.removed += 1
        summary.failed = len(summary.errors)
        summary.embedded = self._embedded
        for w in summary.warnings:
            report(f"warning: {w}")
        summary.seconds = time.perf_counter() - start
        return summary

    def _prepare(
        self,
        source: SourceFile,
        old: DocumentRecord | None,
        loaded: LoadedDocument | IngestError,
        claimed: dict[str, SourceFile],
        records: dict[str, DocumentRecord],
    ) -> _Prepared:
        """Chunk one loaded file (or raise what loading it raised), refusing a document id another file uses."""
        if isinstance(loaded, IngestError):
            raise loaded
        doc = loaded
        owner = claimed.get(doc.doc_id)
        if owner is not None and owner.key != source.key:
            raise IngestError(source.path, f"duplicate document id '{doc.doc_id}' (also used by {owner.path})")
        existing = records.get(doc.doc_id)
        if existing is not None and old is None:
            other = Path(existing.source_root) / existing.source_path
            if other.exists() and other.resolve() != source.path.resolve():
                raise IngestError(source.path, f"duplicate document id '{doc.doc_id}' (also used by {other})")
        version = version_of(source.content_hash, self.signature)
        chunks = self.chunker.split(doc, version, source.content_hash)
        if not chunks:
            raise IngestError(source.path, "no text to index after parsing")
        claimed[doc.doc_id] = source  # claimed now: a later file in the same batch cannot take the id
        return _Prepared(source, old, existing, doc, version, chunks)

    def _write(
        self,
        queue: list[_Prepared],
        size: int,
        records: dict[str, DocumentRecord],
        summary: IngestSummary,
        bar: Progress,
    ) -> int:
        """Embed and write the next `size` queued chunks, commit the documents they complete, and take those off
        the queue; return how many chunks were written."""
        parts: list[tuple[_Prepared, int, int]] = []  # (document, first chunk, end) written now
        room = size
        for p in queue:
            if room <= 0:
                break
            end = min(len(p.chunks), p.written + room)
            parts.append((p, p.written, end))
            room -= end - p.written
        chunks = [c for p, start, end in parts for c in p.chunks[start:end]]
        vectors, hashes = self._embed(chunks)
        rows = self._sentence_rows(parts) if self.sentence_vectors else []
        # atomic per document: write new chunks, commit each version, then drop its other versions.
        # Leftovers of a killed run were already deleted by repair() at the start of this run.
        for i in range(0, len(chunks), 1000):  # a write_batch set above Chroma's largest batch still writes
            self.store.add_chunks(chunks[i : i + 1000], vectors[i : i + 1000], hashes[i : i + 1000])
        for i in range(0, len(rows), 500):
            self.store.add_sentence_vectors(rows[i : i + 500])
        for p, _, end in parts:
            p.written = end
        done = [p for p, _, end in parts if end == len(p.chunks)]
        queue[:] = queue[len(done) :]  # the documents completed are the queue's head
        # every chunk and sentence of these documents is written: their records switch now, in one store write
        # (a record is one row of it, so each document is still fully old or fully new if the process dies)
        committed = [(p, self._record(p)) for p in done]
        with self.store.commits_together():
            for _, record in committed:
                self.store.commit_document(record)
        for p, record in committed:
            self._drop_other_versions(p, record, records)
            summary.chunks += len(p.chunks)
            summary.warnings.extend(p.doc.warnings)
            if p.existing is None and p.old is None:
                summary.added += 1
            else:
                summary.updated += 1
            bar.update(1)
        return len(chunks)

    def _record(self, p: _Prepared) -> DocumentRecord:
        doc, source = p.doc, p.source
        return DocumentRecord(
            doc_id=doc.doc_id,
            version=p.version,
            source_path=source.rel,
            source_root=str(source.root),
            content_hash=source.content_hash,
            n_chunks=len(p.chunks),
            pages=doc.pages,
            **doc.document_metadata(),
            ingested_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )

    def _drop_other_versions(self, p: _Prepared, record: DocumentRecord, records: dict[str, DocumentRecord]) -> None:
        """After the commit: the document's other versions, and its record under an id it no longer has."""
        doc_id = record.doc_id
        records[doc_id] = record
        if p.existing is not None:  # a new document has no other version to drop
            self.store.delete_chunks(doc_id, except_version=p.version)
        if p.old is not None and p.old.doc_id != doc_id:
            self.store.remove_document(p.old.doc_id)
            records.pop(p.old.doc_id, None)

    def _encode(self, texts: list[str], per_call: int) -> list[list[float]]:
        """Embed texts in calls of `per_call` (counted in `embedded`)."""
        out: list[list[float]] = []
        for start in range(0, len(texts), per_call):
            part = texts[start : start + per_call]
            out.extend(self.embedder.encode(part).tolist())
            self._embedded += len(part)
        return out

    def _embed(self, chunks: list[Chunk]) -> tuple[list[list[float]], list[str]]:
        texts = [c.embed_text() for c in chunks]
        hashes = [embed_hash(self.embedder.model_name, t) for t in texts]
        cache = self.store.cached_embeddings(hashes)
        missing = [i for i, h in enumerate(hashes) if h not in cache]
        for i, vec in zip(missing, self._encode([texts[i] for i in missing], self.batch_size), strict=True):
            cache[hashes[i]] = vec
        return [cache[h] for h in hashes], hashes

    def _sentence_rows(self, parts: list[tuple[_Prepared, int, int]]) -> list[SentenceVectors]:
        """Each chunk's candidate sentences with their vectors. Vectors are shared within a document only (an
        updated document reuses its stored version's unchanged sentences), so each document costs the same
        whichever documents share its store writes."""
        per_part: list[tuple[_Prepared, dict[str, list[float]], list[tuple[Chunk, list[str]]]]] = []
        missing: list[tuple[dict[str, list[float]], str]] = []
        for p, start, end in parts:
            if p.sentences is None:
                p.sentences = self.store.document_sentence_vectors(p.doc.doc_id) if p.existing is not None else {}
            known = p.sentences
            chunks = [(c, candidate_sentences(c)) for c in p.chunks[start:end]]
            todo = dict.fromkeys(s for _, sents in chunks for s in sents if s not in known)
            missing.extend((known, s) for s in todo)
            per_part.append((p, known, chunks))
        for (known, text), vec in zip(missing, self._encode([s for _, s in missing], self.sentence_batch), strict=True):
            known[text] = vec
        dim = self.embedder.dim
        return [
            SentenceVectors(
                chunk_id=c.id,
                doc_id=c.doc_id,
                version=p.version,
                texts=sents,
                vectors=np.asarray([known[s] for s in sents], dtype=np.float32).reshape(len(sents), dim),
            )
            for p, known, chunks in per_part
            for c, sents in chunks
        ]
