"""A frozen Chroma server (process stopped, socket open) cannot hang the app: every request times out (issue 11)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.components import build_components
from bot.errors import StoreUnavailable
from bot.server import create_app
from bot.settings import Settings
from bot.store import connect
from evals.bench_load import serve_in_thread
from tests.conftest import CORPUS, SUBSET
from tests.servers import ChromaServer, free_port

TIMEOUT = 2.0  # HELPDESK_CHROMA_TIMEOUT for these tests
BOUND = 12.0  # what a caller may wait at most (a few store calls of TIMEOUT each, on a busy machine)


@contextlib.contextmanager
def frozen(server: ChromaServer) -> Iterator[None]:
    """SIGSTOP the `chroma run` process (its socket stays open) for the block; always SIGCONT after."""
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)


@pytest.fixture
def own_chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    """A `chroma run` of this test only (the session's server is not stopped under other tests)."""
    server = ChromaServer(tmp_path / "chroma").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.timeout(120)  # the old code hung here for good
def test_health_and_ask_answer_within_a_bound_while_the_store_is_frozen(
    own_chroma: ChromaServer, tmp_path: Path, real_embedder
) -> None:
    settings = Settings(
        chroma_host="127.0.0.1",
        chroma_port=own_chroma.port,
        chroma_timeout=TIMEOUT,
        collection="frozen",
        chroma_path=tmp_path / "locks",
    )
    comps = build_components(settings, embedder=real_embedder, use_llm=False)
    assert comps.pipeline.run([CORPUS / name for name in SUBSET[:2]], progress=False).failed == 0
    port = free_port()
    server = serve_in_thread(create_app(comps, with_ui=False), port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            assert client.get("/api/health").json()["ok"] is True
            with frozen(own_chroma):
                start = time.monotonic()
                health = client.get("/api/health")
                assert time.monotonic() - start < BOUND
                assert health.status_code == 503
                assert health.json()["store"] == "not answering"
                assert "not answering" in health.json()["error"]

                start = time.monotonic()
                ask = client.post("/api/ask", json={"question": "Who is the lead partner of ClusterFY?"})
                assert time.monotonic() - start < BOUND
                assert ask.status_code == 503
                assert "not answering" in ask.json()["error"]
            # and it recovers without a restart
            assert client.get("/api/health").json()["ok"] is True
    finally:
        server.should_exit = True


@pytest.mark.timeout(60)
def test_opening_a_frozen_store_fails_within_a_bound(own_chroma: ChromaServer, tmp_path: Path) -> None:
    settings = Settings(chroma_host="127.0.0.1", chroma_port=own_chroma.port, chroma_timeout=TIMEOUT)
    with frozen(own_chroma):
        start = time.monotonic()
        with pytest.raises(StoreUnavailable, match="not answering"):
            connect(settings)
        assert time.monotonic() - start < BOUND
