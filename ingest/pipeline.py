"""Carry out the plan one document at a time, atomically; progress; summary."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from bot.errors import IngestBusy, IngestError, StoreUnavailable
from bot.models import OfflineEmbedding
from bot.store import ChunkStore
from bot.types import Chunk, DocumentRecord
from ingest.chunking import Chunker
from ingest.loaders import LoaderLimits, load_document
from ingest.sources import Plan, SourceFile, make_plan, version_of


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
    """One ingest at a time per store: a second waits up to `wait` seconds, then refuses clearly."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as fh:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IngestBusy(
                        f"another ingest is running on this index (lock {lock_path}); try again when it finishes"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class IngestPipeline:
    """Files → documents → chunks → embedded and stored, kept in sync with the folder."""

    def __init__(
        self,
        store: ChunkStore,
        embedder: OfflineEmbedding,
        chunker: Chunker,
        limits: LoaderLimits | None = None,
        lock_path: Path | None = None,
        batch_size: int = 32,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.chunker = chunker
        self.limits = limits or LoaderLimits()
        self.lock_path = lock_path
        self.batch_size = batch_size
        self._embedded = 0

    @property
    def signature(self) -> str:
        """Everything besides file content that determines the stored chunks."""
        return f"{self.chunker.signature}|{self.embedder.model_name}"

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
        bar = tqdm(
            total=len(plan.load),
            desc="ingest",
            unit="file",
            file=sys.stderr,
            disable=not progress,
            leave=False,
        )
        try:
            for source, old in plan.load:
                bar.set_postfix_str(source.rel[-40:])
                try:
                    status, n, warnings = self._ingest_one(source, old, claimed, records)
                    summary.warnings.extend(warnings)
                except IngestError as err:
                    summary.errors.append(err)
                    report(f"error: {err}")
                else:
                    summary.chunks += n
                    if status == "added":
                        summary.added += 1
                    else:
                        summary.updated += 1
                bar.update(1)
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

    def _ingest_one(
        self,
        source: SourceFile,
        old: DocumentRecord | None,
        claimed: dict[str, SourceFile],
        records: dict[str, DocumentRecord],
    ) -> tuple[str, int, list[str]]:
        doc = load_document(source.path, source.root, self.limits)
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
        vectors, hashes = self._embed(chunks)
        # atomic per document: write new chunks, commit the version, then drop other versions.
        # Leftovers of a killed run were already deleted by repair() at the start of this run.
        self.store.add_chunks(chunks, vectors, hashes)
        record = DocumentRecord(
            doc_id=doc.doc_id,
            version=version,
            title=doc.title,
            doc_type=doc.doc_type,
            country=doc.country,
            region=doc.region,
            project=doc.project,
            topics=list(doc.topics),
            source_url=doc.source_url,
            source_path=source.rel,
            source_root=str(source.root),
            content_hash=source.content_hash,
            n_chunks=len(chunks),
            pages=doc.pages,
            ingested_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        self.store.commit_document(record)
        records[doc.doc_id] = record
        if existing is not None:  # a new document has no other version to drop
            self.store.delete_chunks(doc.doc_id, except_version=version)
        if old is not None and old.doc_id != doc.doc_id:
            self.store.remove_document(old.doc_id)
            records.pop(old.doc_id, None)
        claimed[doc.doc_id] = source
        return ("added" if existing is None and old is None else "updated"), len(chunks), doc.warnings

    def _embed(self, chunks: list[Chunk]) -> tuple[list[list[float]], list[str]]:
        texts = [c.embed_text() for c in chunks]
        hashes = [embed_hash(self.embedder.model_name, t) for t in texts]
        try:
            cache = self.store.cached_embeddings(hashes)
        except StoreUnavailable:
            raise
        missing = [i for i, h in enumerate(hashes) if h not in cache]
        for start in range(0, len(missing), self.batch_size):
            idx = missing[start : start + self.batch_size]
            vecs = self.embedder.encode([texts[i] for i in idx])
            self._embedded += len(idx)
            for i, v in zip(idx, vecs, strict=True):
                cache[hashes[i]] = v.tolist()
        return [cache[h] for h in hashes], hashes
