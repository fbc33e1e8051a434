"""Batched ingest keeps per-document atomicity; sentence vectors are stored at ingest and answers reuse them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.components import build_components
from bot.evidence import candidate_sentences
from bot.settings import Settings
from tests.conftest import SUBSET


def _settings(tmp_path: Path, name: str = "perf") -> Settings:
    return Settings(chroma_path=tmp_path / "idx", collection=name)


def test_writes_are_batched_across_documents_and_each_commit_follows_all_its_chunks(
    library: Path, embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    comps = build_components(_settings(tmp_path), embedder=embedder)
    store = comps.store
    written: set[str] = set()
    writes: list[int] = []
    committed: list[str] = []
    real_add, real_commit = store.add_chunks, store.commit_document

    def add_chunks(chunks, embeddings, hashes):
        writes.append(len(chunks))
        written.update(c.id for c in chunks)
        return real_add(chunks, embeddings, hashes)

    def commit_document(record):
        mine = [cid for cid in written if cid.startswith(f"{record.doc_id}::")]
        assert len(mine) == record.n_chunks, f"{record.doc_id} committed before all its chunks were written"
        committed.append(record.doc_id)
        return real_commit(record)

    monkeypatch.setattr(store, "add_chunks", add_chunks)
    monkeypatch.setattr(store, "commit_document", commit_document)
    summary = comps.pipeline.run([library], progress=False)
    assert summary.added == len(SUBSET) == len(committed)
    assert sum(writes) == summary.chunks
    assert len(writes) < len(SUBSET), f"one store write per document ({len(writes)} writes)"


def test_each_chunk_has_its_candidate_sentences_and_their_vectors(library: Path, embedder, tmp_path: Path) -> None:
    (library / "short-lines.md").write_text(
        "---\nid: short-lines\ntitle: Short lines\n---\n\n# Contacts\n\nPhone: 123\n\nEmail: a@b.eu\n"
    )
    comps = build_components(_settings(tmp_path), embedder=embedder)
    summary = comps.pipeline.run([library], progress=False)
    assert summary.failed == 0
    chunks = comps.store.current_chunks()
    stored = comps.store.sentence_vectors([c.id for c in chunks])
    assert set(stored) == {c.id for c in chunks}
    assert stored[next(c.id for c in chunks if c.doc_id == "short-lines")].texts == []
    sample = [c for c in chunks if c.doc_id == "clusterfy-project-summary"]
    for chunk in sample:
        row = stored[chunk.id]
        assert row.texts == candidate_sentences(chunk) and row.texts
        fresh = embedder.inner.encode(row.texts)
        assert row.vectors.shape == fresh.shape
        assert np.allclose(row.vectors, fresh, atol=1e-4)


def test_an_answer_embeds_only_the_question_when_sentence_vectors_are_stored(
    library: Path, embedder, tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    build_components(settings, embedder=embedder).pipeline.run([library], progress=False)
    question = "What is the ClusterFY project about?"

    comps = build_components(settings, embedder=embedder, use_llm=False)
    embedder.texts = 0
    with_stored = comps.assistant.ask(question)
    asked = embedder.texts
    assert with_stored.outcome in ("answered", "caution") and with_stored.citations and with_stored.passage_evidence
    assert asked <= 3, f"{asked} texts embedded for one answer: the passages' sentences were embedded again"

    # the same answer without stored vectors (an index written before they existed): sentences embedded per question
    # (no Store method drops only the sentence rows: emptied inside the Chroma implementation)
    comps.store._sentences.delete(ids=comps.store._sentences.get(include=[])["ids"])
    fallback = build_components(settings, embedder=embedder, use_llm=False)
    embedder.texts = 0
    again = fallback.assistant.ask(question)
    assert embedder.texts > asked + 5
    assert (again.text, again.outcome) == (with_stored.text, with_stored.outcome)


def test_an_index_without_sentence_vectors_is_rewritten_by_the_next_run(
    library: Path, embedder, tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    old = build_components(settings, embedder=embedder)
    old.pipeline.sentence_vectors = False  # writes what the previous layout wrote
    first = old.pipeline.run([library], progress=False)
    assert old.store.count_sentence_records() == 0

    comps = build_components(settings, embedder=embedder)
    seen: list[str] = []
    encode = embedder.encode
    embedder.encode = lambda texts, is_query=False: (seen.extend(texts), encode(texts, is_query))[1]
    summary = comps.pipeline.run([library], progress=False)
    assert (summary.updated, summary.unchanged) == (len(SUBSET), 0)
    chunks = comps.store.current_chunks()
    assert len(chunks) == first.chunks
    assert set(comps.store.sentence_vectors([c.id for c in chunks])) == {c.id for c in chunks}
    assert comps.store.count_sentence_records() == comps.store.count_chunks() == len(chunks)
    assert seen, "the sentences were embedded"
    assert not {c.embed_text() for c in chunks} & set(seen), "chunk vectors come from the embedding cache"


class Crash(BaseException):
    """The process dying between the writes and the commit."""


def test_sentence_records_of_an_uncommitted_batch_are_repaired(
    library: Path, embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    comps = build_components(settings, embedder=embedder)
    monkeypatch.setattr(comps.store, "commit_document", lambda rec: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        comps.pipeline.run([library], progress=False)
    monkeypatch.undo()
    assert comps.store.count_sentence_records() > 0 and not comps.store.documents()
    for md in library.glob("*.md"):  # new versions: new chunk ids, so nothing overwrites the leftovers
        md.write_text(md.read_text() + "\n\nRevision marker 2.\n")

    fresh = build_components(settings, embedder=embedder)
    summary = fresh.pipeline.run([library], progress=False)
    assert summary.repaired > 0 and summary.failed == 0
    assert fresh.store.count_sentence_records() == fresh.store.count_chunks() == summary.chunks
