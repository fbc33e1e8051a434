"""Faults: a Chroma server that goes away and comes back, two ingests at once, an unwritable index."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.components import build_components
from bot.errors import IngestBusy, StoreUnavailable
from bot.server import create_app
from bot.settings import Settings
from evals.bench_load import serve_in_thread
from ingest.pipeline import ingest_lock
from tests.servers import ChromaServer, free_port

pytestmark = pytest.mark.slow


def test_chroma_server_restart_is_survived_without_restarting_the_app(tmp_path: Path, library: Path, embedder) -> None:
    server = ChromaServer(tmp_path / "chroma-data").start()
    try:
        settings = Settings(
            chroma_host="127.0.0.1", chroma_port=server.port, collection="restart", chroma_path=tmp_path
        )
        comps = build_components(settings, embedder=embedder)
        comps.pipeline.run([library], progress=False)
        comps.assistant.warm_up()
        question = "Who is the lead partner of ClusterFY?"
        before = comps.assistant.ask(question)
        assert before.citations and before.citations[0].doc_id == "clusterfy-project-summary"

        server.stop()
        comps.retriever.config.refresh_seconds = 0  # re-check the store on every question
        with pytest.raises(StoreUnavailable, match=f"chroma server http://127.0.0.1:{server.port}"):
            comps.assistant.ask(question)

        server.start()  # same port, same data: the running components recover by themselves
        after = comps.assistant.ask(question)
        assert after.text == before.text and after.citations[0].doc_id == "clusterfy-project-summary"

        # the same through the running app's HTTP API
        port = free_port()
        app_server = serve_in_thread(create_app(comps, with_ui=False), port)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                assert client.post("/api/ask", json={"question": question}).status_code == 200
                server.stop()
                down = client.post("/api/ask", json={"question": question})
                assert down.status_code == 503 and "chroma server" in down.json()["error"]
                assert client.get("/api/health").status_code == 503
                server.start()
                up = client.post("/api/ask", json={"question": question})
                assert up.status_code == 200 and up.json()["citations"][0]["doc_id"] == "clusterfy-project-summary"
        finally:
            app_server.should_exit = True
    finally:
        server.stop()


def test_two_ingests_at_once_second_refuses_clearly_and_nothing_is_corrupted(tmp_path: Path, library: Path) -> None:
    env = {**os.environ, "HELPDESK_CHROMA_PATH": str(tmp_path / "idx"), "HELPDESK_CORPUS_DIR": str(library)}
    cli = [sys.executable, "-m", "bot.cli", "ingest", "--quiet"]
    lock = tmp_path / "idx" / ".ingest-helpdesk.lock"
    with ingest_lock(lock):  # a first ingest holds the lock
        res = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 2
        assert "another ingest is running on this index" in res.stderr and "Traceback" not in res.stderr
        waiting = subprocess.Popen([*cli, "--wait", "120"], env=env, stdout=subprocess.PIPE, text=True)
        time.sleep(3)
        assert waiting.poll() is None, "--wait queues behind the running ingest"
    out, _ = waiting.communicate(timeout=300)
    assert waiting.returncode == 0 and "added 10," in out
    with pytest.raises(IngestBusy), ingest_lock(lock), ingest_lock(lock, wait=0.3):
        pass
    status = build_components(Settings(chroma_path=tmp_path / "idx")).store
    assert len(status.documents()) == 10 and status.count_chunks() == sum(
        r.n_chunks for r in status.documents().values()
    )


def test_write_failure_during_ingest_keeps_the_previous_index(library: Path, embedder, monkeypatch) -> None:
    """A disk-full/read-only store is injected at the write (root ignores file modes, and mounting a
    full filesystem needs privileges this sandbox lacks): the error is clear and nothing is lost."""
    settings = Settings()
    comps = build_components(settings, embedder=embedder)
    comps.pipeline.run([library], progress=False)
    before = {c.id for c in comps.store.current_chunks()}
    target = library / "clusterfy-project-summary.md"
    target.write_text(target.read_text() + "\n\nAn edit that cannot be written.\n")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    # the fault sits inside the Chroma implementation (its chunk collection), below the Store seam
    monkeypatch.setattr(comps.store._chunks, "upsert", disk_full)
    monkeypatch.setattr(comps.store._chunks, "add", disk_full)
    with pytest.raises(StoreUnavailable, match=r"writing chunks failed .* No space left on device"):
        comps.pipeline.run([library], progress=False)
    monkeypatch.undo()
    after = build_components(settings, embedder=embedder).store
    assert {c.id for c in after.current_chunks()} == before
