"""The only module that knows Chroma: open (embedded | server), write, delete, query.

Layout: one collection of chunks (written and queried through llama-index's ChromaVectorStore), a
small `<name>__docs` collection with one record per document: its current `version`, and a
`<name>__sentences` collection with one record per chunk: the chunk's candidate sentences and their
vectors, computed at ingest so that an answer does not embed them again. A document's version is
committed by upserting its record (a single-record write); chunks and sentence records of any other
version are invisible to readers and removed by `repair()`. This keeps every document either fully old
or fully new, even when a process is killed mid-write.

Over 300 lines on purpose: it is the whole Chroma adapter behind the `Store` protocol (bot/store_protocol.py),
so that no other module needs to know Chroma; tests/store_conformance.py holds it to the protocol.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import math
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import chromadb
import httpx
import numpy as np
from chromadb.config import Settings as ChromaSettings
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
)
from llama_index.vector_stores.chroma import ChromaVectorStore

from bot.errors import IndexMismatch, StoreUnavailable
from bot.settings import Settings
from bot.types import Chunk, DocumentRecord, Filters, SentenceVectors, filter_fields

log = logging.getLogger(__name__)
_PAGE = 2000  # Chroma reads in pages to bound memory and request size
# A denser HNSW graph than Chroma's default (16 neighbours, ef 100): the multilingual embeddings are
# low-contrast (cosines 0.2–0.4), and with the default graph the exact nearest chunk of some questions
# was not among the 60 returned. Measured on the dev questions: recall@60 against exact search 0.943
# (default) → 1.000 (this), query time 0.9 → 1.4 ms.
HNSW = {"space": "cosine", "max_neighbors": 48, "ef_construction": 400, "ef_search": 400}
INDEX_LAYOUT = 2


def _chroma_settings() -> ChromaSettings:
    return ChromaSettings(anonymized_telemetry=False, allow_reset=True)


def connect(settings: Settings) -> Any:
    """A Chroma client: HttpClient when a host is configured, else an embedded PersistentClient."""
    try:
        if settings.server_mode:
            client = _http_client(settings)
            client.heartbeat()
            return client
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_path), settings=_chroma_settings())
    except StoreUnavailable:
        raise
    except Exception as exc:  # chromadb raises many types (ValueError, httpx errors, OSError, ...)
        reason = _reason(exc, settings.chroma_timeout)
        raise StoreUnavailable(f"cannot open the {settings.describe_store()}: {reason}") from exc


def _http_client(settings: Settings) -> Any:
    """chromadb.HttpClient whose every request times out after `settings.chroma_timeout` seconds.

    chromadb 1.5.9 builds its httpx session with `timeout=None` and offers no setting for it, so a frozen
    server (process stopped, socket still open) would hang every caller forever. The constructor already
    talks to the server (identity, tenant, database), so it runs in a thread with a bounded wait; the
    session's timeout is then set on the client's httpx session (shared by the admin client).
    """
    timeout = settings.chroma_timeout
    made: dict[str, Any] = {}

    def make() -> None:
        try:
            made["client"] = chromadb.HttpClient(
                host=str(settings.chroma_host), port=settings.chroma_port, settings=_chroma_settings()
            )
        except Exception as exc:  # re-raised in the caller's thread
            made["error"] = exc

    worker = threading.Thread(target=make, name="chroma-connect", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise StoreUnavailable(f"cannot open the {settings.describe_store()}: {_not_answering(timeout)}")
    if "error" in made:
        raise made["error"]
    client = made["client"]
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(timeout)
    else:  # a chromadb upgrade moved the session: say so rather than silently losing the timeout
        log.warning("could not set a request timeout on the Chroma client (chromadb %s)", chromadb.__version__)
    return client


def _not_answering(timeout: float | None) -> str:
    within = f" (no reply within {timeout:g} s)" if timeout else ""
    return f"the Chroma server is not answering{within}; check that it is running"


def _reason(exc: BaseException, timeout: float | None = None) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return _not_answering(timeout)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def forget_open_clients() -> None:
    """Drop chromadb's per-process cache of embedded clients so the next open reads the folder afresh.

    Embedded Chroma is single-process: a process that keeps a client open does not see what another
    process wrote to the same folder. Use a Chroma server when several processes write the index.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def drop_collections(client: Any, name: str) -> None:
    """Delete a library's chunk and document collections (missing ones are fine)."""
    for collection in (name, f"{name}__docs", f"{name}__sentences"):
        try:
            client.delete_collection(collection)
        except Exception as exc:  # chromadb raises NotFoundError/ValueError by version
            log.debug("delete_collection(%s): %s", collection, exc)


def filters_to_where(filters: Filters | None) -> MetadataFilters | None:
    """Filters → llama-index MetadataFilters (translated to a Chroma `where` by ChromaVectorStore).

    Each of `Filters.conditions()` becomes one equality, so the store filters as `Filters.matches` does.
    """
    if filters is None or filters.is_empty():
        return None
    items = [MetadataFilter(key=k, value=v, operator=FilterOperator.EQ) for k, v in filters.conditions()]
    return MetadataFilters(filters=items)


def _sentence_metadata(row: SentenceVectors) -> dict[str, Any]:
    """Flat Chroma metadata of one chunk's sentences: texts as JSON, vectors as base64 float32 (exact)."""
    vectors = np.asarray(row.vectors, dtype="<f4")
    return {
        "doc_id": row.doc_id,
        "version": row.version,
        "n": len(row.texts),
        "texts": json.dumps(row.texts, ensure_ascii=False),
        "vectors": base64.b64encode(vectors.tobytes()).decode("ascii"),
    }


def _sentence_row(chunk_id: str, meta: dict[str, Any], dim: int) -> SentenceVectors | None:
    """Inverse of _sentence_metadata; None for a record this store cannot read (another dimension)."""
    try:
        texts = [str(t) for t in json.loads(str(meta.get("texts", "[]")))]
        vectors = np.frombuffer(base64.b64decode(str(meta.get("vectors", ""))), dtype="<f4").reshape(-1, dim)
    except ValueError:
        return None
    if len(texts) != len(vectors):
        return None
    return SentenceVectors(
        chunk_id=chunk_id,
        doc_id=str(meta.get("doc_id", "")),
        version=str(meta.get("version", "")),
        texts=texts,
        vectors=vectors,
    )


class ChunkStore:
    """Chunks and document records of one library in Chroma: the `bot.store_protocol.Store` of the app.

    Its collections are private; callers use the Store methods (tests/store_conformance.py checks them).
    """

    def __init__(
        self, client: Any, name: str, embed_model: str, dim: int, description: str = "", timeout: float | None = None
    ) -> None:
        self.client = client
        self.name = name
        self.embed_model = embed_model
        self.dim = dim
        self.description = description or name
        self.timeout = timeout  # of each request to a Chroma server (None: embedded)
        self._lock = threading.Lock()
        self._held: dict[str, DocumentRecord] | None = None  # commits waiting for the end of commits_together()
        try:
            self._chunks = client.get_or_create_collection(
                name,
                embedding_function=None,
                metadata={"embed_model": embed_model, "embed_dim": dim, "index_layout": INDEX_LAYOUT},
                configuration={"hnsw": HNSW},
            )
            self._docs = client.get_or_create_collection(f"{name}__docs", embedding_function=None)
            self._sentences = client.get_or_create_collection(f"{name}__sentences", embedding_function=None)
        except Exception as exc:
            raise StoreUnavailable(
                f"cannot open collection '{name}' in the {self.description}: {_reason(exc, timeout)}"
            ) from exc
        meta = self._chunks.metadata or {}
        if meta.get("index_layout", 1) != INDEX_LAYOUT:
            raise IndexMismatch(
                f"the index '{name}' was built with an older layout (its vector graph finds fewer neighbours): "
                "re-index with `helpdesk ingest --reset`"
            )
        if meta.get("embed_model") not in (None, embed_model) or int(meta.get("embed_dim", dim)) != dim:
            raise IndexMismatch(
                f"the index '{name}' was built with the embedding model '{meta.get('embed_model')}' "
                f"({meta.get('embed_dim')}-d) but '{embed_model}' ({dim}-d) is configured: "
                "re-index with `helpdesk ingest --reset` or set HELPDESK_EMBED_MODEL back"
            )
        self._vector_store = ChromaVectorStore(chroma_collection=self._chunks)

    @classmethod
    def open(cls, settings: Settings, embed_model: str, dim: int, reset: bool = False) -> ChunkStore:
        """Open (creating if needed) the configured store; `reset` drops it first (any model or layout)."""
        client = connect(settings)
        if reset:
            drop_collections(client, settings.collection)
        timeout = settings.chroma_timeout if settings.server_mode else None
        return cls(client, settings.collection, embed_model, dim, settings.describe_store(), timeout)

    # ---- guarded calls -------------------------------------------------------------------------
    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (IndexMismatch, StoreUnavailable):
            raise
        except Exception as exc:
            raise StoreUnavailable(f"{what} failed on the {self.description}: {_reason(exc, self.timeout)}") from exc

    # ---- documents -----------------------------------------------------------------------------
    def documents(self) -> dict[str, DocumentRecord]:
        """Every committed document record, by id."""
        res = self._call("reading document records", self._docs.get, include=["metadatas"])
        return {i: DocumentRecord.from_metadata(m or {}) for i, m in zip(res["ids"], res["metadatas"], strict=True)}

    def commit_document(self, record: DocumentRecord) -> None:
        """Make `record.version` the document's current version (the atomic step); inside
        `commits_together()` it takes effect when the block ends."""
        if self._held is not None:
            self._held[record.doc_id] = record
            return
        self._upsert_records([record])

    @contextlib.contextmanager
    def commits_together(self) -> Iterator[None]:
        """The block's `commit_document` calls take effect together, in one write, when it ends without an
        error (none of them otherwise).

        Each document still switches in one step (a record is one row of that write), so every document stays
        fully old or fully new; the ingest commits a batch's documents this way after writing all their chunks.
        One upsert per document cost ~30 ms (an fsync'ed write each): 29 s of a 192 s ingest of the corpus x10.
        """
        if self._held is not None:  # nested: the outer block writes
            yield
            return
        self._held = {}
        try:
            yield
            held, self._held = self._held, None
            self._upsert_records(list(held.values()))
        finally:
            self._held = None

    def _upsert_records(self, records: Sequence[DocumentRecord]) -> None:
        if not records:
            return
        self._call(
            "committing a document",
            self._docs.upsert,
            ids=[r.doc_id for r in records],
            embeddings=[[1.0]] * len(records),
            metadatas=[r.to_metadata() for r in records],
        )

    def remove_document(self, doc_id: str) -> None:
        """Forget a document: its record first (readers stop seeing it), then its chunks."""
        self._call("removing a document", self._docs.delete, ids=[doc_id])
        self.delete_chunks(doc_id)

    # ---- chunks --------------------------------------------------------------------------------
    def add_chunks(
        self, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]], embed_hashes: Sequence[str]
    ) -> None:
        """Write chunks (not yet visible until their document version is committed)."""
        nodes = []
        for chunk, vec, eh in zip(chunks, embeddings, embed_hashes, strict=True):
            meta = chunk.to_metadata(eh) | filter_fields(chunk)  # + a flag per topic, as filters test them
            node = TextNode(id_=chunk.id, text=chunk.text, metadata=meta, embedding=list(vec))
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=chunk.doc_id)
            nodes.append(node)
        if nodes:
            self._call("writing chunks", self._vector_store.add, nodes)

    def delete_chunks(self, doc_id: str, except_version: str | None = None) -> None:
        """Delete a document's chunks (all of them, or all but one version)."""
        where: dict[str, Any] = {"doc_id": doc_id}
        if except_version is not None:
            where = {"$and": [{"doc_id": doc_id}, {"version": {"$ne": except_version}}]}
        self._call("deleting chunks", self._chunks.delete, where=where)
        self._call("deleting sentence vectors", self._sentences.delete, where=where)

    def cached_embeddings(self, embed_hashes: Iterable[str]) -> dict[str, list[float]]:
        """Embeddings already stored for these embed hashes (any document, any version): the embed cache."""
        wanted = sorted(set(embed_hashes))
        found: dict[str, list[float]] = {}
        for i in range(0, len(wanted), 500):
            part = wanted[i : i + 500]
            res = self._call(
                "reading cached embeddings",
                self._chunks.get,
                where={"embed_hash": {"$in": part}},
                include=["embeddings", "metadatas"],
            )
            for meta, emb in zip(res["metadatas"], res["embeddings"], strict=True):
                found[str(meta["embed_hash"])] = [float(x) for x in emb]
        return found

    def _iter_raw(
        self, include: list[str], where: dict | None = None, collection: Any = None
    ) -> Iterable[tuple[str, Any, Any]]:
        offset = 0
        collection = collection if collection is not None else self._chunks
        while True:
            res = self._call("reading chunks", collection.get, include=include, where=where, limit=_PAGE, offset=offset)
            ids = res["ids"]
            docs = res.get("documents") or [None] * len(ids)
            metas = res.get("metadatas") or [None] * len(ids)
            for cid, meta, text in zip(ids, metas, docs, strict=True):
                yield cid, meta or {}, text
            if len(ids) < _PAGE:
                return
            offset += _PAGE

    def raw_chunk_versions(self) -> list[tuple[str, str, str]]:
        """(chunk id, doc_id, version) of every stored chunk, current or not (for repair and tests)."""
        return [(cid, str(m.get("doc_id")), str(m.get("version"))) for cid, m, _ in self._iter_raw(["metadatas"])]

    def repair(self) -> int:
        """Delete chunks whose document has no record or another current version; return how many."""
        records = self.documents()
        stale, current = [], set()
        for cid, doc_id, version in self.raw_chunk_versions():
            if doc_id not in records or records[doc_id].version != version:
                stale.append(cid)
            else:
                current.add(cid)
        for i in range(0, len(stale), 500):
            self._call("repairing the index", self._chunks.delete, ids=stale[i : i + 500])
        # a sentence record shares its chunk's id: any other one is a leftover (ids only: the vectors are large)
        orphans = [cid for cid, _, _ in self._iter_raw([], collection=self._sentences) if cid not in current]
        for i in range(0, len(orphans), 500):
            self._call("repairing the index", self._sentences.delete, ids=orphans[i : i + 500])
        return len(stale)

    def current_chunks(self) -> list[Chunk]:
        """Every chunk of every committed document version, with its text (readers' view)."""
        records = self.documents()
        out = []
        for cid, meta, text in self._iter_raw(["metadatas", "documents"]):
            rec = records.get(str(meta.get("doc_id")))
            if rec is not None and rec.version == meta.get("version"):
                out.append(Chunk.from_metadata(cid, text or "", meta))
        out.sort(key=lambda c: (c.doc_id, c.chunk_index))
        return out

    def current_chunks_with_embeddings(self) -> list[tuple[Chunk, list[float], str]]:
        """(chunk, embedding, embed hash) of every current chunk: for copying an index (benchmarks)."""
        records = self.documents()
        out = []
        for cid, meta, text in self._iter_raw(["metadatas", "documents"]):
            rec = records.get(str(meta.get("doc_id")))
            if rec is not None and rec.version == meta.get("version"):
                out.append((cid, meta, text))
        vectors: dict[str, list[float]] = {}
        ids = [cid for cid, _, _ in out]
        for i in range(0, len(ids), _PAGE):
            res = self._call("reading embeddings", self._chunks.get, ids=ids[i : i + _PAGE], include=["embeddings"])
            vectors.update(
                {cid: [float(x) for x in emb] for cid, emb in zip(res["ids"], res["embeddings"], strict=True)}
            )
        return [
            (Chunk.from_metadata(cid, text or "", meta), vectors[cid], str(meta.get("embed_hash", "")))
            for cid, meta, text in out
        ]

    # ---- sentence vectors (computed at ingest, read at question time) ------------------------------
    def add_sentence_vectors(self, rows: Sequence[SentenceVectors]) -> None:
        """Write each chunk's sentences and their vectors (visible once the chunk's version is committed)."""
        if not rows:
            return
        self._call(
            "writing sentence vectors",
            self._sentences.upsert,
            ids=[r.chunk_id for r in rows],
            embeddings=[[1.0]] * len(rows),  # looked up by id only; Chroma wants a vector per record
            metadatas=[_sentence_metadata(r) for r in rows],
        )

    def sentence_vectors(self, chunk_ids: Sequence[str]) -> dict[str, SentenceVectors]:
        """The stored sentences and vectors of these chunks, by chunk id (chunks without any are left out)."""
        if not chunk_ids:
            return {}
        res = self._call(
            "reading sentence vectors", self._sentences.get, ids=list(dict.fromkeys(chunk_ids)), include=["metadatas"]
        )
        out = {}
        for cid, meta in zip(res["ids"], res["metadatas"], strict=True):
            row = _sentence_row(cid, meta or {}, self.dim)
            if row is not None:
                out[cid] = row
        return out

    def document_sentence_vectors(self, doc_id: str) -> dict[str, list[float]]:
        """Every stored sentence vector of a document (any version) by sentence text: the ingest's cache."""
        found: dict[str, list[float]] = {}
        for cid, meta, _ in self._iter_raw(["metadatas"], where={"doc_id": doc_id}, collection=self._sentences):
            row = _sentence_row(cid, meta, self.dim)
            if row is not None:
                found.update({t: list(v) for t, v in zip(row.texts, row.vectors.tolist(), strict=True)})
        return found

    def count_sentence_records(self) -> int:
        """Raw number of stored sentence records (one per chunk written with sentence vectors)."""
        return int(self._call("counting sentence records", self._sentences.count))

    def count_chunks(self) -> int:
        """Raw number of stored chunks (current and stale)."""
        return int(self._call("counting chunks", self._chunks.count))

    def query(
        self,
        embedding: Sequence[float],
        k: int,
        filters: Filters | None = None,
        current: dict[str, DocumentRecord] | None = None,
    ) -> list[Chunk]:
        """The k nearest current chunks by cosine similarity (score = cosine)."""
        records = current if current is not None else self.documents()
        q = VectorStoreQuery(query_embedding=list(embedding), similarity_top_k=k + 8, filters=filters_to_where(filters))
        res = self._call("searching the index", self._vector_store.query, q)
        out: list[Chunk] = []
        for node, sim in zip(res.nodes or [], res.similarities or [], strict=False):
            meta = node.metadata
            rec = records.get(str(meta.get("doc_id")))
            if rec is None or rec.version != meta.get("version"):
                continue
            cosine = 1.0 + math.log(sim) if sim > 0 else -1.0  # ChromaVectorStore reports exp(-distance)
            out.append(Chunk.from_metadata(node.node_id, node.get_content(), meta, score=cosine))
        return out[:k]

    def reset(self) -> None:
        """Drop both collections and start empty."""
        drop_collections(self.client, self.name)
        self.__init__(self.client, self.name, self.embed_model, self.dim, self.description, self.timeout)  # type: ignore[misc]
