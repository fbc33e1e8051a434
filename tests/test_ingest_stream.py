"""Chunks stream through fixed-size store writes: a long document spans several writes and commits after its last;
the records a write completes switch in one store write; the embedding work does not depend on the write size."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pytest

from bot.components import build_components
from bot.settings import Settings
from tests.conftest import SUBSET

LONG = "helpdesk-clusters-green-digital-transition"  # 10 chunks: spans three writes of 4


def _settings(tmp_path: Path, name: str) -> Settings:
    return Settings(chroma_path=tmp_path / name, collection=name)


def test_a_long_document_spans_writes_and_commits_only_after_its_last_chunk(
    library: Path, embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    comps = build_components(_settings(tmp_path, "small-writes"), embedder=embedder)
    comps.pipeline.write_batch = 4
    store = comps.store
    events: list[tuple[str, list[str]]] = []
    written: set[str] = set()
    real_add, real_commit, real_together = store.add_chunks, store.commit_document, store.commits_together

    def add_chunks(chunks, embeddings, hashes):
        assert len(chunks) <= 4
        events.append(("write", [c.doc_id for c in chunks]))
        written.update(c.id for c in chunks)
        return real_add(chunks, embeddings, hashes)

    def commit_document(record):
        mine = [cid for cid in written if cid.startswith(f"{record.doc_id}::")]
        assert len(mine) == record.n_chunks, f"{record.doc_id} committed before all its chunks were written"
        events.append(("commit", [record.doc_id]))
        return real_commit(record)

    @contextlib.contextmanager
    def commits_together():
        events.append(("records write", []))
        with real_together():
            yield

    monkeypatch.setattr(store, "add_chunks", add_chunks)
    monkeypatch.setattr(store, "commit_document", commit_document)
    monkeypatch.setattr(store, "commits_together", commits_together)
    summary = comps.pipeline.run([library], progress=False)

    assert summary.added == len(SUBSET) and summary.failed == 0
    writes_of_long = [i for i, (kind, docs) in enumerate(events) if kind == "write" and LONG in docs]
    assert len(writes_of_long) >= 3, "the long document should span several store writes"
    committed_at = events.index(("commit", [LONG]))
    assert committed_at > writes_of_long[-1]
    record_writes = sum(kind == "records write" for kind, _ in events)
    assert record_writes < summary.added, "one store write per document record"

    # what readers see: every document whole, each chunk with its sentences, the long one's vectors exact
    chunks = store.current_chunks()
    assert len(chunks) == summary.chunks == sum(r.n_chunks for r in store.documents().values())
    stored = store.sentence_vectors([c.id for c in chunks])
    assert set(stored) == {c.id for c in chunks}
    for chunk in (c for c in chunks if c.doc_id == LONG):
        row = stored[chunk.id]
        if row.texts:
            assert np.allclose(row.vectors, embedder.inner.encode(row.texts), atol=1e-4)


def test_the_embedding_work_does_not_depend_on_the_write_size(library: Path, embedder, tmp_path: Path) -> None:
    embedded = {}
    for write_batch in (4, 64):
        comps = build_components(_settings(tmp_path, f"writes{write_batch}"), embedder=embedder)
        comps.pipeline.write_batch = write_batch
        embedder.texts = 0
        summary = comps.pipeline.run([library], progress=False)
        assert summary.embedded == embedder.texts
        embedded[write_batch] = summary.embedded
    assert embedded[4] == embedded[64], "sentences shared within a document must be embedded once, in any write"
