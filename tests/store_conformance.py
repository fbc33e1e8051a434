"""The one conformance test class every `bot.store_protocol.Store` implementation must pass.

After Haystack's `haystack/testing/document_store.py`: a backend's test module subclasses
`StoreConformance` and provides a `store` fixture (a fresh, empty store of `DIM`-d vectors). The tests
use small hand-made vectors, so no embedder is loaded. They cover writing, replacing and deleting a
document's chunks, document records, sentence vectors, repair, queries, and the metadata filters: the
store's query must keep exactly the chunks that `Filters.matches` keeps, over every combination of
filter values (the two implementations of the filter semantics are proven equal here).
One suite, so just over 300 lines: splitting it would let a backend pass half of the contract.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import replace

import numpy as np
import pytest

from bot.store_protocol import Store
from bot.types import Chunk, DocumentRecord, Filters, SentenceVectors

DIM = 8


def vector(key: str) -> list[float]:
    """A deterministic unit vector for a key."""
    seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "little")
    v = np.random.default_rng(seed).normal(size=DIM)
    return (v / np.linalg.norm(v)).tolist()


def make_doc(
    doc_id: str, version: str, n: int = 3, topics: tuple[str, ...] = (), **meta: str
) -> tuple[DocumentRecord, list[Chunk]]:
    """A document record and its n chunks (ids unique per version, as the pipeline makes them)."""
    fields = {"title": f"Title of {doc_id}", "doc_type": "good_practice", "country": "Italy", "region": ""} | meta
    chunks = [
        Chunk(
            id=f"{doc_id}::{version}::{i}",
            text=f"Passage {i} of {doc_id} ({version}): clusters, vouchers, é ü ñ.",
            doc_id=doc_id,
            version=version,
            topics=list(topics),
            section=f"Part {i}",
            page=i + 1 if i % 2 else None,
            source_url=f"https://example.org/{doc_id}",
            source_path=f"{doc_id}.md",
            content_hash=f"hash-{version}",
            chunk_index=i,
            language="en",
            published="2024-05-01",
            **fields,
        )
        for i in range(n)
    ]
    record = DocumentRecord(
        doc_id=doc_id,
        version=version,
        topics=list(topics),
        source_url=f"https://example.org/{doc_id}",
        source_path=f"{doc_id}.md",
        source_root="/library",
        content_hash=f"hash-{version}",
        n_chunks=n,
        pages=n,
        ingested_at="2026-12-02T00:00:00+00:00",
        **fields,
    )
    return record, chunks


def write(store: Store, chunks: list[Chunk], commit: DocumentRecord | None = None) -> None:
    """Write chunks with their vectors (keyed by text) and optionally commit their record."""
    store.add_chunks(chunks, [vector(c.text) for c in chunks], [f"eh-{c.id}" for c in chunks])
    if commit is not None:
        store.commit_document(commit)


def sentence_rows(chunks: list[Chunk]) -> list[SentenceVectors]:
    """Two sentences with float32 vectors per chunk."""
    return [
        SentenceVectors(
            chunk_id=c.id,
            doc_id=c.doc_id,
            version=c.version,
            texts=[f"First of {c.id}.", f"Second of {c.id}."],
            vectors=np.asarray([vector(f"s1{c.id}"), vector(f"s2{c.id}")], dtype=np.float32),
        )
        for c in chunks
    ]


def plain(chunk: Chunk) -> Chunk:
    """A chunk without its query score (for comparing what was written with what is read)."""
    return replace(chunk, score=0.0)


# A library whose metadata varies along every filterable field, for the filter tests.
COUNTRIES = ("Italy", "France", "Spain")
REGIONS = ("Lombardy", "Occitanie", "")
DOC_TYPES = ("good_practice", "news")
PROJECTS = ("CLUSTERFY", "")
TOPICS = (("clusters",), ("vouchers", "clusters"), ())
FILTER_VALUES = {
    "country": (None, "Italy", "France", "italy", "Atlantis"),
    "region": (None, "Lombardy", "Occitanie"),
    "doc_type": (None, "good_practice", "news"),
    "project": (None, "CLUSTERFY"),
    "topic": (None, "clusters", "vouchers", "digital"),
}


class StoreConformance:
    """Behaviour every Store must show; subclasses provide the `store` fixture."""

    @pytest.fixture
    def store(self) -> Store:  # pragma: no cover - replaced by every subclass
        raise NotImplementedError

    # ---- the seam -------------------------------------------------------------------------------
    def test_implements_the_protocol(self, store: Store) -> None:
        assert isinstance(store, Store)
        assert store.description

    def test_a_new_store_is_empty(self, store: Store) -> None:
        assert store.documents() == {}
        assert store.current_chunks() == []
        assert store.count_chunks() == store.count_sentence_records() == 0
        assert store.query(vector("anything"), 5) == []
        assert store.repair() == 0

    # ---- writing ------------------------------------------------------------------------------------
    def test_chunks_are_invisible_until_their_version_is_committed(self, store: Store) -> None:
        record, chunks = make_doc("a", "v1")
        write(store, chunks)
        assert store.count_chunks() == 3
        assert store.current_chunks() == [] and store.documents() == {}
        assert store.query(vector(chunks[0].text), 5) == []
        store.commit_document(record)
        assert [c.id for c in store.current_chunks()] == [c.id for c in chunks]

    def test_committed_chunks_and_records_read_back_as_written(self, store: Store) -> None:
        record, chunks = make_doc("brief", "v1", n=4, topics=("clusters", "S3"), region="Lombardy", project="X")
        write(store, list(reversed(chunks)), commit=record)
        assert store.current_chunks() == chunks  # every field, ordered by (doc_id, chunk_index)
        assert store.documents() == {"brief": record}

    def test_current_chunks_are_ordered_by_document_then_index(self, store: Store) -> None:
        for doc_id in ("b", "a", "c"):
            record, chunks = make_doc(doc_id, "v1", n=3)
            write(store, chunks[::-1], commit=record)
        assert [(c.doc_id, c.chunk_index) for c in store.current_chunks()] == [(d, i) for d in "abc" for i in range(3)]

    def test_committing_a_new_version_replaces_the_old_one(self, store: Store) -> None:
        old, old_chunks = make_doc("a", "v1", n=3)
        write(store, old_chunks, commit=old)
        new, new_chunks = make_doc("a", "v2", n=2, country="France")
        write(store, new_chunks)
        assert {c.version for c in store.current_chunks()} == {"v1"}, "readers keep the old version until commit"
        store.commit_document(new)
        assert store.current_chunks() == new_chunks
        assert store.documents()["a"] == new
        assert store.count_chunks() == 5, "the old chunks stay until deleted"
        store.delete_chunks("a", except_version="v2")
        assert sorted(store.raw_chunk_versions()) == sorted((c.id, "a", "v2") for c in new_chunks)
        assert store.current_chunks() == new_chunks

    def test_commits_together_take_effect_at_the_end_of_the_block_and_not_after_an_error(self, store: Store) -> None:
        old, old_chunks = make_doc("a", "v1", n=2)
        write(store, old_chunks, commit=old)
        new_a, chunks_a = make_doc("a", "v2", n=2)
        new_b, chunks_b = make_doc("b", "v1", n=1)
        write(store, chunks_a + chunks_b)
        with store.commits_together():
            store.commit_document(new_a)
            store.commit_document(new_b)
            assert store.documents() == {"a": old}, "readers see no commit before the block ends"
            assert {c.version for c in store.current_chunks()} == {"v1"}
        assert store.documents() == {"a": new_a, "b": new_b}
        assert [c.id for c in store.current_chunks()] == [c.id for c in chunks_a + chunks_b]

        newer, newer_chunks = make_doc("b", "v2", n=1)
        write(store, newer_chunks)
        with pytest.raises(RuntimeError), store.commits_together():
            store.commit_document(newer)
            raise RuntimeError("the process dies before the block ends")
        assert store.documents()["b"] == new_b, "a failed block commits nothing"
        store.commit_document(newer)  # outside a block: at once, as before
        assert store.documents()["b"] == newer

    def test_delete_chunks_touches_one_document_only(self, store: Store) -> None:
        ra, a = make_doc("a", "v1")
        rb, b = make_doc("b", "v1")
        write(store, a, commit=ra)
        write(store, b, commit=rb)
        store.add_sentence_vectors(sentence_rows(a + b))
        store.delete_chunks("a")
        assert {c.doc_id for c in store.current_chunks()} == {"b"}
        assert set(store.sentence_vectors([c.id for c in a + b])) == {c.id for c in b}
        assert set(store.documents()) == {"a", "b"}, "records are not chunks: a record goes with remove_document"

    def test_remove_document_forgets_record_chunks_and_sentences(self, store: Store) -> None:
        ra, a = make_doc("a", "v1")
        rb, b = make_doc("b", "v1")
        write(store, a, commit=ra)
        write(store, b, commit=rb)
        store.add_sentence_vectors(sentence_rows(a + b))
        store.remove_document("a")
        assert set(store.documents()) == {"b"}
        assert {d for _, d, _ in store.raw_chunk_versions()} == {"b"}
        assert store.count_sentence_records() == len(b)
        store.remove_document("never-there")  # removing a missing document is not an error

    def test_repair_removes_what_an_interrupted_run_left(self, store: Store) -> None:
        ra, a = make_doc("a", "v1")
        write(store, a, commit=ra)
        store.add_sentence_vectors(sentence_rows(a))
        _, a2 = make_doc("a", "v2")  # written, never committed
        _, ghost = make_doc("ghost", "v1", n=2)  # a document with no record at all
        write(store, a2 + ghost)
        store.add_sentence_vectors(sentence_rows(a2 + ghost))
        assert store.repair() == len(a2) + len(ghost)
        assert sorted(store.raw_chunk_versions()) == sorted((c.id, "a", "v1") for c in a)
        assert store.count_sentence_records() == len(a)
        assert store.current_chunks() == a
        assert store.repair() == 0

    def test_reset_empties_the_store(self, store: Store) -> None:
        ra, a = make_doc("a", "v1")
        write(store, a, commit=ra)
        store.add_sentence_vectors(sentence_rows(a))
        store.reset()
        assert store.documents() == {} and store.count_chunks() == store.count_sentence_records() == 0
        write(store, a, commit=ra)  # and it is usable again
        assert store.current_chunks() == a

    # ---- vectors ------------------------------------------------------------------------------------
    def test_cached_embeddings_by_embed_hash(self, store: Store) -> None:
        _, a = make_doc("a", "v1")
        write(store, a)  # not committed: the cache still serves any stored version
        found = store.cached_embeddings([f"eh-{a[0].id}", f"eh-{a[2].id}", "unknown"])
        assert set(found) == {f"eh-{a[0].id}", f"eh-{a[2].id}"}
        assert np.allclose(found[f"eh-{a[0].id}"], vector(a[0].text), atol=1e-6)

    def test_current_chunks_with_embeddings(self, store: Store) -> None:
        ra, a = make_doc("a", "v1")
        write(store, a, commit=ra)
        write(store, make_doc("a", "v0")[1])  # a stale version is left out
        rows = store.current_chunks_with_embeddings()
        assert sorted(c.id for c, _, _ in rows) == [c.id for c in a]
        for chunk, vec, eh in rows:
            assert eh == f"eh-{chunk.id}" and np.allclose(vec, vector(chunk.text), atol=1e-6)

    def test_sentence_vectors_round_trip_exactly(self, store: Store) -> None:
        ra, a = make_doc("a", "v1")
        write(store, a, commit=ra)
        rows = sentence_rows(a)
        store.add_sentence_vectors(rows)
        store.add_sentence_vectors([])
        got = store.sentence_vectors([a[0].id, a[1].id, a[0].id, "no-such-chunk"])
        assert set(got) == {a[0].id, a[1].id}
        assert got[a[0].id].texts == rows[0].texts and got[a[0].id].version == "v1"
        assert np.array_equal(got[a[0].id].vectors, rows[0].vectors), "float32 vectors come back bit for bit"
        assert store.sentence_vectors([]) == {}
        by_text = store.document_sentence_vectors("a")
        assert len(by_text) == 2 * len(a)
        assert np.array_equal(np.asarray(by_text[f"Second of {a[2].id}."], dtype=np.float32), rows[2].vectors[1])
        assert store.document_sentence_vectors("b") == {}
        assert store.count_sentence_records() == len(a)

    # ---- queries ------------------------------------------------------------------------------------
    def test_query_ranks_current_chunks_by_cosine(self, store: Store) -> None:
        chunks: list[Chunk] = []
        for doc_id in ("a", "b", "c", "d"):
            record, cs = make_doc(doc_id, "v1", n=3)
            write(store, cs, commit=record)
            chunks += cs
        write(store, make_doc("a", "v2", n=3)[1])  # uncommitted: never returned
        q = vector("a question")
        cosines = {c.id: float(np.dot(q, vector(c.text))) for c in chunks}
        expected = sorted(cosines, key=lambda cid: -cosines[cid])
        got = store.query(q, 5)
        assert [c.id for c in got] == expected[:5]
        for c in got:
            assert c.score == pytest.approx(cosines[c.id], abs=1e-4)
            assert plain(c) == next(x for x in chunks if x.id == c.id)
        assert len(store.query(q, 100)) == len(chunks)
        assert store.query(vector(chunks[4].text), 1)[0].id == chunks[4].id  # a chunk is its own nearest

    def test_query_with_the_callers_records_skips_the_read(self, store: Store) -> None:
        ra, a = make_doc("a", "v1")
        write(store, a, commit=ra)
        assert store.query(vector(a[1].text), 1, current={})[:1] == [], "no current document: nothing returned"
        assert store.query(vector(a[1].text), 1, current=store.documents())[0].id == a[1].id

    # ---- metadata filters ---------------------------------------------------------------------------
    @pytest.fixture
    def filter_library(self, store: Store) -> list[Chunk]:
        """24 documents across every combination of country, doc type, project and topics, plus stale chunks."""
        current: list[Chunk] = []
        combos = itertools.product(COUNTRIES, DOC_TYPES, PROJECTS, TOPICS)
        for i, (country, doc_type, project, topics) in enumerate(combos):
            if i % 3 == 2:
                continue  # not every combination: some filter combinations must match nothing
            region = REGIONS[i % len(REGIONS)]
            meta = {"country": country, "doc_type": doc_type, "project": project, "region": region}
            record, chunks = make_doc(f"d{i:02d}", "v1", n=2, topics=topics, **meta)
            write(store, chunks, commit=record)
            current += chunks
            if i % 5 == 0:  # an uncommitted newer version with the same metadata: filtered out as stale
                write(store, make_doc(f"d{i:02d}", "v2", n=2, topics=topics, **meta)[1])
        return current

    def test_filters_keep_exactly_what_matches_keeps(self, store: Store, filter_library: list[Chunk]) -> None:
        q = vector("a filtered question")
        records = store.documents()
        keys = list(FILTER_VALUES)
        checked = nonempty = 0
        for values in itertools.product(*FILTER_VALUES.values()):
            filters = Filters(**dict(zip(keys, values, strict=True)))
            expected = {c.id for c in filter_library if filters.matches(c)}
            got = store.query(q, len(filter_library) + 10, filters=filters, current=records)
            assert {c.id for c in got} == expected, f"store and Filters.matches disagree on {filters}"
            checked += 1
            nonempty += bool(expected)
        assert checked == 5 * 3 * 3 * 2 * 4 and 50 < nonempty < checked  # both outcomes are exercised

    def test_filter_semantics(self, store: Store, filter_library: list[Chunk]) -> None:
        q = vector("another question")

        def docs(**kw: str) -> set[str]:
            return {c.doc_id for c in store.query(q, 100, filters=Filters(**kw))}

        every = {c.doc_id for c in filter_library}
        assert docs() == every and {c.doc_id for c in store.query(q, 100, filters=None)} == every
        italy = {c.doc_id for c in filter_library if c.country == "Italy"}
        assert docs(country="Italy") == italy != set()
        assert docs(country="italy") == set(), "values match exactly (case included)"
        assert docs(country="Atlantis") == set()
        vouchers = {c.doc_id for c in filter_library if "vouchers" in c.topics}
        assert docs(topic="vouchers") == vouchers and vouchers < {c.doc_id for c in filter_library if c.topics}
        both = docs(country="Italy", topic="clusters", doc_type="news")
        assert (
            both
            == {
                c.doc_id
                for c in filter_library
                if (c.country, c.doc_type) == ("Italy", "news") and "clusters" in c.topics
            }
            != set()
        )
        assert docs(country="", topic="") == every, "empty values are no filter"
