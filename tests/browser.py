"""Browser-test scaffolding shared by the UI test modules: Debian chromium and the app served in-process."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.components import Components, build_components
from bot.models import OfflineEmbedding
from bot.settings import Settings
from bot.ui.app import build_app, launch_options
from tests.conftest import clear_helpdesk_env
from tests.servers import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium: run `make chromium`"
)


@contextlib.contextmanager
def served_library(
    embedder: OfflineEmbedding, root: Path, library: Path, collection: str
) -> Iterator[tuple[str, Components]]:
    """The app on a free loopback port over a fresh index of `library` (isolated from the environment)."""
    with pytest.MonkeyPatch.context() as mp:
        clear_helpdesk_env(mp)
        settings = Settings(chroma_path=root / "index", corpus_dir=library, collection=collection)
        comps = build_components(settings, embedder=embedder, use_llm=False)
        summary = comps.pipeline.run([library], progress=False)
        assert summary.failed == 0, summary.errors
        comps.assistant.warm_up()
        app = build_app(comps)
        app.queue()
        port = free_port()
        app.launch(
            server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_options(settings)
        )
        try:
            yield f"http://127.0.0.1:{port}/", comps
        finally:
            app.close()
