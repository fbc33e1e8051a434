"""Small typed records that every boundary speaks (dicts only at the edges: JSON, Chroma metadata)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(kw_only=True)
class DocumentMetadata:
    """A document's descriptive metadata, declared once: what its front matter or sidecar may give, what every
    chunk of it and its store record carry, and what the filters and citations read."""

    title: str = ""
    doc_type: str = ""
    country: str = ""
    region: str = ""
    project: str = ""
    topics: list[str] = field(default_factory=list)
    source_url: str = ""
    published: str = ""
    language: str = ""

    def document_metadata(self) -> dict[str, Any]:
        """These fields as keyword arguments for another record of the same document (topics copied)."""
        return {name: _copied(getattr(self, name)) for name in DOCUMENT_FIELDS}

    def metadata_for_store(self, topic_edges: bool = False) -> dict[str, Any]:
        """These fields as flat Chroma metadata (topics joined by "|"; chunks add edge bars for substring tests)."""
        meta = self.document_metadata()
        joined = "|".join(self.topics)
        meta["topics"] = f"|{joined}|" if topic_edges and joined else joined
        return meta

    @staticmethod
    def metadata_from_store(meta: dict[str, Any]) -> dict[str, Any]:
        """Inverse of metadata_for_store: keyword arguments, missing fields left at their defaults."""
        out: dict[str, Any] = {name: str(meta[name]) for name in DOCUMENT_FIELDS if meta.get(name) is not None}
        out["topics"] = [t for t in str(meta.get("topics") or "").split("|") if t]
        return out


DOCUMENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(DocumentMetadata))


def _copied(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


@dataclass
class Chunk(DocumentMetadata):
    """One retrievable passage with its provenance (its document's metadata: DocumentMetadata)."""

    id: str
    text: str
    doc_id: str
    section: str = ""
    page: int | None = None
    source_path: str = ""
    content_hash: str = ""
    version: str = ""
    chunk_index: int = 0
    score: float = 0.0

    def to_metadata(self, embed_hash: str) -> dict[str, Any]:
        """Flat Chroma metadata (no None values, topics as a delimited string)."""
        return self.metadata_for_store(topic_edges=True) | {
            "doc_id": self.doc_id,
            "version": self.version,
            "section": self.section,
            "page": self.page if self.page is not None else -1,
            "source_path": self.source_path,
            "content_hash": self.content_hash,
            "embed_hash": embed_hash,
            "chunk_index": self.chunk_index,
        }

    @classmethod
    def from_metadata(cls, chunk_id: str, text: str, meta: dict[str, Any], score: float = 0.0) -> Chunk:
        """Inverse of to_metadata."""
        page = meta.get("page", -1)
        return cls(
            id=chunk_id,
            text=text,
            doc_id=str(meta.get("doc_id", "")),
            section=str(meta.get("section", "")),
            page=int(page) if page is not None and int(page) >= 0 else None,
            source_path=str(meta.get("source_path", "")),
            content_hash=str(meta.get("content_hash", "")),
            version=str(meta.get("version", "")),
            chunk_index=int(meta.get("chunk_index", 0)),
            score=score,
            **DocumentMetadata.metadata_from_store(meta),
        )

    def embed_text(self) -> str:
        """The text the embedder and BM25 see: title and heading path give context to short passages."""
        head = self.title if not self.section else f"{self.title} — {self.section}"
        return f"{head}\n{self.text}" if head else self.text


@dataclass
class DocumentRecord(DocumentMetadata):
    """One document's current version in the store; its chunks carry the same `version`."""

    doc_id: str
    version: str
    source_path: str = ""
    source_root: str = ""
    content_hash: str = ""
    n_chunks: int = 0
    pages: int = 0
    ingested_at: str = ""

    def to_metadata(self) -> dict[str, Any]:
        """Flat Chroma metadata."""
        return asdict(self) | self.metadata_for_store()

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> DocumentRecord:
        """Inverse of to_metadata."""
        own = {f.name for f in fields(cls)} - set(DOCUMENT_FIELDS)
        d = {k: meta[k] for k in own if meta.get(k) is not None}
        for k in ("n_chunks", "pages"):
            d[k] = int(d.get(k) or 0)
        return cls(**d, **DocumentMetadata.metadata_from_store(meta))


@dataclass
class Filters:
    """Metadata filters applied inside the store query."""

    country: str | None = None
    region: str | None = None
    doc_type: str | None = None
    topic: str | None = None
    project: str | None = None

    def is_empty(self) -> bool:
        """True when no filter is set."""
        return not any((self.country, self.region, self.doc_type, self.topic, self.project))

    def conditions(self) -> list[tuple[str, str | int]]:
        """The filter as equality conditions on a chunk's flat metadata (`filter_fields`), all of which must hold.

        The one definition of the filter semantics: the store translates these into its query's `where`,
        `matches` checks them in memory (BM25 masks); the store conformance suite proves the two agree.
        """
        out: list[tuple[str, str | int]] = [(key, v) for key in FILTER_FIELDS if (v := getattr(self, key))]
        if self.topic:
            out.append((topic_flag(self.topic), 1))
        return out

    def matches(self, chunk: Chunk) -> bool:
        """Whether a chunk passes every condition."""
        fields = filter_fields(chunk)
        return all(fields.get(key) == value for key, value in self.conditions())


# Exact-match metadata a filter may test; a topic is tested through a flag per topic (`topic_flag`),
# since Chroma metadata has no list "contains".
FILTER_FIELDS = ("country", "region", "doc_type", "project")


def topic_flag(topic: str) -> str:
    """The metadata key flagging a chunk's topic (value 1)."""
    return f"topic:{topic}"


def filter_fields(chunk: Chunk) -> dict[str, str | int]:
    """The part of a chunk's flat metadata that filters test: the exact fields and its topic flags."""
    return {key: getattr(chunk, key) for key in FILTER_FIELDS} | {topic_flag(t): 1 for t in chunk.topics}


@dataclass
class Citation:
    """A numbered source of an answer: the passage and where it comes from."""

    n: int
    doc_id: str
    title: str
    doc_type: str
    country: str
    region: str
    page: int | None
    section: str
    source_url: str
    quote: str
    chunk_id: str = ""

    @classmethod
    def from_chunk(cls, n: int, chunk: Chunk) -> Citation:
        """Cite a chunk as source number n."""
        return cls(
            n=n,
            doc_id=chunk.doc_id,
            title=chunk.title,
            doc_type=chunk.doc_type,
            country=chunk.country,
            region=chunk.region,
            page=chunk.page,
            section=chunk.section,
            source_url=chunk.source_url,
            quote=chunk.text,
            chunk_id=chunk.id,
        )

    def location(self) -> str:
        """'p. 12' or the section path, for display."""
        if self.page is not None:
            return f"p. {self.page}"
        return self.section


@dataclass
class Answer:
    """What `Assistant.ask` returns: text with [n] markers, the numbered citations and the evidence."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    chunks: list[Chunk] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    standalone_question: str = ""
    backend: str = "offline"
    notice: str = ""
    suggestions: list[dict[str, str]] = field(default_factory=list)
    # "answered", "caution" (answered, but the library only partly covers it), "not_covered", "empty" (no library)
    outcome: str = "answered"
    # the answerability features behind the outcome (bot/evidence.py), for the evals and diagnosis
    evidence: dict[str, float] = field(default_factory=dict)
    # per top passage, in retrieval order: its doc_id and reranking features (the evals refit the reranker)
    passage_evidence: list[dict[str, Any]] = field(default_factory=list)
    # per sentence of the answer: {"text", "citation" (n or None), "support" (0..1 or None: a lead-in), "flags"}
    sentences: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form with the documented field names."""
        return {
            "question": self.question,
            "text": self.text,
            "citations": [asdict(c) for c in self.citations],
            "refused": self.refused,
            "chunks": [
                {
                    "id": c.id,
                    "doc_id": c.doc_id,
                    "title": c.title,
                    "page": c.page,
                    "section": c.section,
                    "score": round(c.score, 6),
                    "text": c.text,
                }
                for c in self.chunks
            ],
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
            "standalone_question": self.standalone_question,
            "backend": self.backend,
            "notice": self.notice,
            "suggestions": self.suggestions,
            "outcome": self.outcome,
            "sentences": self.sentences,
        }


@dataclass
class SentenceVectors:
    """A chunk's candidate sentences and their unit vectors (rows), computed once at ingest."""

    chunk_id: str
    doc_id: str
    version: str
    texts: list[str]
    vectors: Any  # numpy (n, dim) float32; Any keeps this module free of numpy
