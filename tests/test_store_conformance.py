"""The store conformance suite (tests/store_conformance.py) on both Chroma back-ends (embedded and `chroma run`)
and on the in-memory store of the unit tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.store import ChunkStore, drop_collections
from tests.memory_store import MemoryStore
from tests.servers import ChromaServer
from tests.store_conformance import DIM, StoreConformance


class TestEmbeddedChromaStore(StoreConformance):
    """Chroma's PersistentClient in a temp folder."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> ChunkStore:
        return ChunkStore.open(Settings(chroma_path=tmp_path / "index", collection="conformance"), "test-embed", DIM)


@pytest.mark.server
class TestServerChromaStore(StoreConformance):
    """The session's `chroma run` server, one fresh collection per test (dropped afterwards)."""

    @pytest.fixture
    def store(self, chroma_server: ChromaServer, tmp_path: Path) -> Iterator[ChunkStore]:
        settings = Settings(
            chroma_host="127.0.0.1",
            chroma_port=chroma_server.port,
            collection=f"conf{uuid.uuid4().hex[:10]}",
            chroma_path=tmp_path / "locks",
        )
        store = ChunkStore.open(settings, "test-embed", DIM)
        yield store
        drop_collections(store.client, store.name)


class TestMemoryStore(StoreConformance):
    """tests/memory_store.py: exact search in numpy, for unit tests that need no Chroma."""

    @pytest.fixture
    def store(self) -> MemoryStore:
        return MemoryStore()
