"""Heading- and sentence-aware splitting (llama-index node parsers); heading path and page on every chunk."""

from __future__ import annotations

import hashlib
import re

from llama_index.core import Document
from llama_index.core.node_parser import MarkdownNodeParser, SentenceSplitter

from bot.config import ChunkingConfig
from bot.types import Chunk
from ingest.loaders.base import LoadedDocument

# Bump when the chunking changes in a way that must re-chunk (and re-embed) every document.
CHUNKER_VERSION = "3"  # 3: topic flags stored as 1 (filterable)

_HEADING_LINE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_PSEUDO_HEADING = re.compile(r"^[A-ZÀ-Ý0-9][^!?:;*\[\]|]{2,70}[^.!?:;,*\s]$")


def promote_pseudo_headings(text: str) -> str:
    """Plain text often marks sections with short standalone lines ("Policy insights 1. Clusters").

    When a text has no Markdown headings, turn such lines (short, no closing punctuation, followed by
    a paragraph) into level-2 headings so that sections are kept. Written by hand: no library does it.
    """
    if re.search(r"^#{1,6}\s", text, flags=re.M):
        return text
    blocks = text.split("\n\n")
    out = []
    for i, block in enumerate(blocks):
        line = block.strip()
        nxt = blocks[i + 1].strip() if i + 1 < len(blocks) else ""
        if (
            "\n" not in line
            and _PSEUDO_HEADING.match(line)
            and len(line.split()) >= 2
            and not line.startswith(("- ", "* "))
            and len(nxt) > 2 * len(line)
        ):
            out.append(f"## {line}")
        else:
            out.append(block)
    return "\n\n".join(out)


class Chunker:
    """Split a LoadedDocument into Chunks of about `chunk_size` tokens."""

    def __init__(self, config: ChunkingConfig | None = None) -> None:
        config = config or ChunkingConfig()
        chunk_size, chunk_overlap = config.chunk_size, config.chunk_overlap
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self._markdown = MarkdownNodeParser(include_metadata=True, include_prev_next_rel=False)
        self._sentences = SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)

    @property
    def signature(self) -> str:
        """Changes whenever chunk boundaries would change."""
        return f"chunker{CHUNKER_VERSION}:{self.chunk_size}:{self.chunk_overlap}"

    def _sections(self, text: str, title: str) -> list[tuple[str, str]]:
        """(section path, body without its heading line) for each heading section of Markdown text."""
        nodes = self._markdown.get_nodes_from_documents([Document(text=promote_pseudo_headings(text))])
        out: list[tuple[str, str]] = []
        for node in nodes:
            body = node.get_content()
            path = [p for p in str(node.metadata.get("header_path", "")).split("/") if p]
            lines = body.split("\n", 1)
            m = _HEADING_LINE.match(lines[0].strip())
            if m:
                path.append(m.group(2).strip())
                body = lines[1] if len(lines) > 1 else ""
            if path and path[0].strip().lower() == title.strip().lower():
                path = path[1:]
            if body.strip():
                out.append((" > ".join(path), body.strip()))
        return out

    def split(self, doc: LoadedDocument, version: str, content_hash: str) -> list[Chunk]:
        """All chunks of a document, numbered in reading order."""
        pieces: list[tuple[str, int | None, str]] = []
        for part in doc.parts:
            if part.page is not None:
                for text in self._sentences.split_text(part.text):
                    pieces.append(("", part.page, text))
            else:
                for section, body in self._sections(part.text, doc.title):
                    for text in self._sentences.split_text(body):
                        pieces.append((section, None, text))
        chunks = []
        vid = hashlib.sha1(version.encode()).hexdigest()[:12]
        for i, (section, page, text) in enumerate(pieces):
            chunks.append(
                Chunk(
                    id=f"{doc.doc_id}::{vid}::{i:05d}",
                    text=text.strip(),
                    doc_id=doc.doc_id,
                    section=section,
                    page=page,
                    source_path=doc.source_path,
                    content_hash=content_hash,
                    version=version,
                    chunk_index=i,
                    **doc.document_metadata(),
                )
            )
        return [c for c in chunks if c.text]
