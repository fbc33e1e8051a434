"""A short, bounded load test through the app's HTTP API: zero errors, no cross-talk (loopback only)."""

from __future__ import annotations

import pytest

from bot.components import build_components
from bot.errors import HelpdeskError
from bot.server import create_app
from bot.settings import Settings
from evals.bench_load import check_loopback, run_users, serve_in_thread
from evals.dataset import load_questions
from tests.conftest import DEV_SET
from tests.servers import free_port

pytestmark = pytest.mark.slow


def _questions() -> list[str]:
    return [q.question for q in load_questions(DEV_SET) if not q.history]


def _load_step(comps, users: int, seconds: float) -> dict:
    """Serve the app's API on a free loopback port and run one bounded load step against it."""
    port = free_port()
    server = serve_in_thread(create_app(comps, with_ui=False), port)
    try:
        return run_users(f"http://127.0.0.1:{port}", users=users, seconds=seconds, questions=_questions())
    finally:
        server.should_exit = True


def test_eight_users_embedded_store(eval_components) -> None:
    step = _load_step(eval_components, users=8, seconds=20)
    assert step["requests"] >= 8 and step["errors"] == 0 and step["cross_talk"] == 0, step


def test_eight_users_chroma_server(chroma_server, library, real_embedder, tmp_path) -> None:
    settings = Settings(
        chroma_host="127.0.0.1", chroma_port=chroma_server.port, collection="load", chroma_path=tmp_path
    )
    comps = build_components(settings, embedder=real_embedder, use_llm=False)
    comps.pipeline.run([library], progress=False)
    comps.assistant.warm_up()
    step = _load_step(comps, users=8, seconds=10)
    assert step["requests"] >= 8 and step["errors"] == 0 and step["cross_talk"] == 0, step


def test_api_answers_rejects_and_stays_on_loopback(eval_components) -> None:
    import httpx

    port = free_port()
    server = serve_in_thread(create_app(eval_components, with_ui=False), port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            ok = client.post("/api/ask", json={"question": "Who is the lead partner of ClusterFY?"}).json()
            assert ok["citations"][0]["doc_id"] == "clusterfy-project-summary"
            too_long = client.post("/api/ask", json={"question": "x" * 1_000_000})
            assert too_long.status_code == 422 and "too long" in too_long.json()["error"]
            assert client.get("/api/health").json()["ok"] is True
    finally:
        server.should_exit = True
    for bad in ("http://10.0.0.5:7860", "http://example.org", "http://192.168.1.2"):
        with pytest.raises(HelpdeskError, match="only target this machine"):
            check_loopback(bad)
    check_loopback("http://[::1]:7860")
