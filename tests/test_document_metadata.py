"""A document's metadata is declared once (DocumentMetadata) and reaches its chunks and its store record intact."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from bot.config import LoaderLimits
from bot.types import DOCUMENT_FIELDS, Chunk, DocumentMetadata, DocumentRecord
from ingest.chunking import Chunker
from ingest.loaders.base import KNOWN_FIELDS, LoadedDocument
from ingest.loaders.markdown import load_markdown

FRONT_MATTER = """---
id: demo-practice
title: Vouchers for SMEs in Lower Austria
doc_type: good_practice
country: Austria
region: Lower Austria
project: INNOBRIDGE
topics: [innovation vouchers, SMEs]
source_url: https://example.org/demo
published: 2021-05-04
language: en
---
# Vouchers

Lower Austria gives SMEs innovation vouchers worth up to 10,000 euros to work with universities.
"""


def test_every_record_of_a_document_is_a_document_metadata() -> None:
    for record in (Chunk, DocumentRecord, LoadedDocument):
        assert issubclass(record, DocumentMetadata)
        assert set(DOCUMENT_FIELDS) <= {f.name for f in fields(record)}
    assert set(KNOWN_FIELDS) == {"id", *DOCUMENT_FIELDS} - {"language"}


def test_front_matter_reaches_the_chunks_and_the_record_through_the_store_codec(tmp_path: Path) -> None:
    path = tmp_path / "demo.md"
    path.write_text(FRONT_MATTER, encoding="utf-8")
    doc = load_markdown(path, tmp_path, LoaderLimits())
    expected = {name: getattr(doc, name) for name in DOCUMENT_FIELDS}
    assert expected["topics"] == ["innovation vouchers", "SMEs"] and expected["published"] == "2021-05-04"

    chunks = Chunker().split(doc, version="v1", content_hash="h")
    assert chunks
    for chunk in chunks:
        back = Chunk.from_metadata(chunk.id, chunk.text, chunk.to_metadata("e"))
        assert back == chunk and {name: getattr(back, name) for name in DOCUMENT_FIELDS} == expected

    record = DocumentRecord(doc_id=doc.doc_id, version="v1", n_chunks=len(chunks), **doc.document_metadata())
    back_record = DocumentRecord.from_metadata(record.to_metadata())
    assert back_record == record and back_record.topics == expected["topics"]
    record.topics.append("changed")  # records of one document never share a mutable list
    assert doc.topics == ["innovation vouchers", "SMEs"]


def test_a_record_written_before_published_and_language_were_stored_still_reads(tmp_path: Path) -> None:
    old = {"doc_id": "d", "version": "v", "title": "T", "topics": "a|b", "n_chunks": 2, "pages": 0}
    record = DocumentRecord.from_metadata(old)
    assert (record.title, record.topics, record.published, record.language, record.n_chunks) == (
        "T",
        ["a", "b"],
        "",
        "",
        2,
    )
