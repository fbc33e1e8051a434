"""The Library's upload event takes only files Gradio received; the public app has no upload at all (issue 11).

The real app (JSON API + Gradio) is served on a free loopback port and attacked over HTTP the way the
issue did: a crafted `FileData` naming a server file is sent to the upload event's queue.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.components import Components, build_components
from bot.server import create_app
from bot.settings import Settings
from evals.bench_load import serve_in_thread
from tests.conftest import clear_helpdesk_env, copy_subset
from tests.servers import free_port

SECRET = "Quokka-Zanzibar-7731 is the database password of the finance office."


@pytest.fixture(scope="module")
def stack(real_embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """An index of the corpus slice, a secret file outside everything, and Gradio's upload folder in a temp dir."""
    with pytest.MonkeyPatch.context() as mp:
        clear_helpdesk_env(mp)
        root = tmp_path_factory.mktemp("upload")
        mp.setenv("GRADIO_TEMP_DIR", str(root / "gradio-uploads"))
        library = copy_subset(root / "library")
        secret = root / "server-only" / "secret.md"
        secret.parent.mkdir()
        secret.write_text(f"# Finance office\n\n{SECRET}\n", encoding="utf-8")
        settings = Settings(chroma_path=root / "index", corpus_dir=library, collection="upload-test")
        comps = build_components(settings, embedder=real_embedder, use_llm=False)
        assert comps.pipeline.run([library], progress=False).failed == 0
        yield {"comps": comps, "library": library, "secret": secret, "uploads": root / "gradio-uploads"}


def serve(comps: Components) -> tuple[str, Any]:
    port = free_port()
    return f"http://127.0.0.1:{port}", serve_in_thread(create_app(comps), port)


def upload_event(client: httpx.Client, prefix: str = "") -> tuple[int, int]:
    """(fn_index, trigger id) of the Library's upload event, from the app's config."""
    config = client.get(f"{prefix}/config").json()
    for i, dep in enumerate(config["dependencies"]):
        for target, event in dep["targets"]:
            if event == "upload":
                return i, target
    raise AssertionError("no upload event")


def run_event(client: httpx.Client, fn_index: int, trigger: int, data: list[Any]) -> list[dict[str, Any]]:
    """Join the queue like the page does and read the event's messages until it completes (bounded)."""
    session = uuid.uuid4().hex
    body = {"data": data, "fn_index": fn_index, "trigger_id": trigger, "session_hash": session, "event_data": None}
    assert client.post("/gradio_api/queue/join", json=body).status_code == 200
    messages = []
    with client.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}, timeout=60) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                messages.append(json.loads(line[5:]))
                if messages[-1].get("msg") == "process_completed":
                    break
    return messages


def files_containing(folder: Path, text: str) -> list[Path]:
    if not folder.exists():
        return []
    return [p for p in folder.rglob("*") if p.is_file() and text.encode() in p.read_bytes()]


def test_a_crafted_file_path_is_neither_copied_nor_indexed(stack: dict[str, Any]) -> None:
    comps, library, secret = stack["comps"], stack["library"], stack["secret"]
    url, server = serve(comps)  # the default app: no staff users, loopback → the Library tab is at /
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            fn_index, trigger = upload_event(client)
            crafted = {"path": str(secret), "orig_name": "notes.md", "meta": {"_type": "gradio.FileData"}}
            messages = run_event(client, fn_index, trigger, [[crafted], ""])
            assert messages[-1]["msg"] == "process_completed"

            assert files_containing(library, "Quokka") == []
            assert files_containing(stack["uploads"], "Quokka") == []
            assert len(comps.store.documents()) == 10
            assert not any("Quokka" in c.text for c in comps.store.current_chunks())
            answer = client.post("/api/ask", json={"question": "What is the finance office database password?"})
            assert "Quokka" not in answer.text

            # a file Gradio did receive is still added (the check refuses paths, not uploads)
            sent = client.post(
                "/gradio_api/upload",
                files={"files": ("orchards.md", b"# Orchards\n\nApple orchards in Vinschgau use cold storage.\n")},
            )
            assert sent.status_code == 200, sent.text
            received = {"path": sent.json()[0], "orig_name": "orchards.md", "meta": {"_type": "gradio.FileData"}}
            done = run_event(client, fn_index, trigger, [[received], ""])[-1]
            assert done["success"], done
            assert (library / "uploads" / "orchards.md").exists()
            assert len(comps.store.documents()) == 11
    finally:
        server.should_exit = True


def test_a_public_app_has_no_upload_route_or_event(stack: dict[str, Any]) -> None:
    # open to the network without staff users: no Library tab, no upload route
    settings = stack["comps"].settings.model_copy(update={"host": "0.0.0.0"})
    url, server = serve(dataclasses.replace(stack["comps"], settings=settings))
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            config = client.get("/config").json()
            assert not any(event == "upload" for dep in config["dependencies"] for _, event in dep["targets"])
            assert "upload" not in {c.get("props", {}).get("elem_id") for c in config["components"]}
            sent = client.post("/gradio_api/upload", files={"files": ("big.md", b"# x\n\nfill the disk\n")})
            assert sent.status_code == 404
            assert "not available" in sent.json()["error"]
            assert files_containing(stack["uploads"], "fill the disk") == []
    finally:
        server.should_exit = True


def test_with_staff_users_only_the_logged_in_app_takes_uploads(stack: dict[str, Any]) -> None:
    settings = stack["comps"].settings.model_copy(update={"staff_users": "alice:s3cret-pass"})
    url, server = serve(dataclasses.replace(stack["comps"], settings=settings))
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            assert client.post("/gradio_api/upload", files={"files": ("a.md", b"# a\n\nx\n")}).status_code == 404
            staff = client.post("/staff/gradio_api/upload", files={"files": ("a.md", b"# a\n\nx\n")})
            assert staff.status_code in (401, 403)
    finally:
        server.should_exit = True
