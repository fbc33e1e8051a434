"""Fixtures start real things: a temp embedded Chroma, a `chroma run` server, the real offline embedder."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from filelock import FileLock

import bot  # noqa: F401  (offline environment)
from bot.models import OfflineEmbedding, load_embedder
from bot.settings import Settings
from tests.servers import ChromaServer

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = ROOT / "corpus"
SHARED_PDF = SHARED / "corpus-pdf"
ADVERSARIAL = SHARED / "corpus-adversarial"
DEV_SET = SHARED / "evals" / "dev.jsonl"

# A representative slice of the default corpus: every doc type, a long multi-section reply, non-English pages.
SUBSET = [
    "helpdesk-clusters-green-digital-transition.md",
    "clusterfy-project-summary.md",
    "gp-textile-recycling-valley-hauts-de-france.md",
    "story-voucher-schemes-implementing-innovation-vouchers.md",
    "news-innovation-vouchers-university-industry-collaboration.md",
    "uexfundacion-cooperacion-interregional-desur.md",
    "innobridge-suedtirol-projekt.md",
    "pb-vouchers-competitiveness-smes-2021.md",
    "s3platform-what-is-smart-specialisation.md",
    "errin-ithaca-active-healthy-ageing.md",
]


def clear_helpdesk_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every HELPDESK_* and OPENAI_* setting, so tests never use a real index or endpoint."""
    for key in list(os.environ):
        if key.startswith("HELPDESK_") or key in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
            monkeypatch.delenv(key, raising=False)


def copy_subset(dest: Path) -> Path:
    """A writable copy of the representative slice of the corpus in `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in SUBSET:
        shutil.copy(CORPUS / name, dest / name)
    return dest


@pytest.fixture(scope="session", autouse=True)
def _isolated_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Session fixtures (the embedder, the eval index, servers) never read the developer's env or `.env`.

    Autouse session fixtures run before any other session fixture, so `Settings()` built there sees defaults.
    """
    patch = pytest.MonkeyPatch()
    clear_helpdesk_env(patch)
    patch.setenv("HELPDESK_CHROMA_PATH", str(tmp_path_factory.mktemp("session-index")))
    patch.chdir(tmp_path_factory.mktemp("session-cwd"))  # pydantic-settings reads .env from the cwd
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test touches the real index, .env or a real endpoint."""
    clear_helpdesk_env(monkeypatch)
    monkeypatch.setenv("HELPDESK_CHROMA_PATH", str(tmp_path / "index"))
    monkeypatch.chdir(tmp_path)


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner: OfflineEmbedding) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.dim = inner.dim
        self.calls = 0
        self.texts = 0

    def encode(self, texts: list[str], is_query: bool = False) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        return self.inner.encode(texts, is_query=is_query)

    def get_query_embedding(self, text: str) -> list[float]:
        return self.encode([text], is_query=True)[0].tolist()


@pytest.fixture(scope="session")
def real_embedder() -> OfflineEmbedding:
    """The default offline embedder, loaded once for the session."""
    return load_embedder(Settings().embed_model)


@pytest.fixture
def embedder(real_embedder: OfflineEmbedding) -> CountingEmbedder:
    return CountingEmbedder(real_embedder)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """One real `chroma run` on a free 127.0.0.1 port for the session."""
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "data").start()
    yield server
    server.stop()


@pytest.fixture(params=["embedded", "server"])
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a fresh store, embedded in a temp dir or on the session's chroma server."""
    name = f"t{uuid.uuid4().hex[:10]}"
    if request.param == "server":
        server: ChromaServer = request.getfixturevalue("chroma_server")
        return Settings(
            chroma_host="127.0.0.1", chroma_port=server.port, collection=name, chroma_path=tmp_path / "locks"
        )
    return Settings(chroma_path=tmp_path / "index", collection=name)


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """A writable copy of the representative slice of the corpus."""
    return copy_subset(tmp_path / "library")


EVAL_INDEX = ROOT / ".cache" / "test-eval-index"


@pytest.fixture(scope="session")
def eval_settings(real_embedder: OfflineEmbedding) -> Settings:
    """The dev-set library (corpus/ + shared PDFs + the adversarial note) in an embedded store.

    Kept under the ignored .cache/ so that re-runs only re-ingest what changed (a no-op normally).
    """
    from bot.components import build_components

    settings = Settings(chroma_path=EVAL_INDEX, collection="eval")
    # `make test` runs two pytest processes (pytest-xdist): the second waits here until the first has built the
    # index, then opens it complete (its own ingest run finds nothing to change)
    with FileLock(EVAL_INDEX.parent / "test-eval-index.build.lock", timeout=1800):
        comps = build_components(settings, embedder=real_embedder)
        summary = comps.pipeline.run([CORPUS, SHARED_PDF, ADVERSARIAL], progress=False)
    assert summary.failed == 0, summary.errors
    return settings


@pytest.fixture(scope="session")
def eval_components(eval_settings: Settings, real_embedder: OfflineEmbedding):
    """Wired components over the eval index, warmed up."""
    from bot.components import build_components

    comps = build_components(eval_settings, embedder=real_embedder)
    comps.assistant.warm_up()
    return comps


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory):
    """The real llama.cpp OpenAI-compatible server with SmolLM2, on a free 127.0.0.1 port."""
    from tests.servers import LlamaServer

    server = LlamaServer(tmp_path_factory.mktemp("llama")).start()
    yield server
    server.stop()


@pytest.fixture
def scripted_llm():
    """A scripted OpenAI-compatible server on loopback for faults (see tests/servers.py)."""
    from tests.servers import ScriptedOpenAIServer

    server = ScriptedOpenAIServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, headless, once per session (Playwright never downloads a browser here)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium: run `make chromium`")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
