"""The composition root: Settings → wired components. app.py, the CLI, the evals and the tests call it.

Only this module reads the settings tree: each component receives its own part (`settings.retrieval`, …).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.answering.extractive import ExtractiveAnswerer
from bot.assistant import Assistant
from bot.config import LLMAnswerConfig
from bot.drafting import ReplyDrafter
from bot.local_server import MODEL_ALIAS, LocalLLMServer
from bot.models import OfflineEmbedding, load_embedder
from bot.refusal import RefusalConfig
from bot.retrieval import HybridRetriever
from bot.settings import Settings, reveal
from bot.store import ChunkStore
from bot.store_protocol import Store
from bot.store_server import ingest_lock_path, through_running_server
from ingest.chunking import Chunker
from ingest.pipeline import IngestPipeline

if TYPE_CHECKING:  # openai is imported only when a language model is used
    import openai

    from bot.answering.llm import LLMAnswerer


@dataclass
class Components:
    """Everything a process needs, built once."""

    settings: Settings
    embedder: OfflineEmbedding
    store: Store
    pipeline: IngestPipeline
    retriever: HybridRetriever
    assistant: Assistant
    drafter: ReplyDrafter
    local_server: LocalLLMServer | None = None

    def close(self) -> None:
        """Stop what this process started (the local model server)."""
        if self.local_server is not None:
            self.local_server.stop()


def build_components(
    settings: Settings, embedder: OfflineEmbedding | None = None, use_llm: bool = True, reset_index: bool = False
) -> Components:
    """Open the store and wire the pipeline; the embedder may be passed in (tests count its calls)."""
    settings = through_running_server(settings)
    embedder = embedder or load_embedder(settings.embed_model, settings.embed_batch_size)
    store = ChunkStore.open(settings, embedder.model_name, embedder.dim, reset=reset_index)
    pipeline = IngestPipeline(
        store=store,
        embedder=embedder,
        chunker=Chunker(settings.chunking),
        limits=settings.limits,
        # one ingest at a time per index folder, whichever process writes to it (the CLI, the app's Library tab)
        lock_path=ingest_lock_path(settings),
        batch_size=settings.embed_batch_size,
    )
    retriever = HybridRetriever(store, embedder.get_query_embedding, settings.retrieval)
    offline = ExtractiveAnswerer(
        embed=lambda texts: embedder.encode(texts, is_query=False),
        idf=lambda t: retriever.lexical_index.idf(t),
        config=settings.extractive,
        passage_terms=lambda chunk: retriever.lexical_index.terms_of(chunk),
    )
    llm, local_server = None, None
    if use_llm and settings.llm_enabled:
        from bot.answering.llm import make_client

        if settings.llm == "local":
            local_server = start_local_server(settings)
            client = make_client(local_server.base_url, None, settings.llm_timeout)
            llm = _llm_answerer(client, MODEL_ALIAS, settings.local_llm)
        else:
            client = make_client(settings.llm_base_url, reveal(settings.llm_api_key), settings.llm_timeout)
            llm = _llm_answerer(client, settings.llm_model, settings.remote_llm)
    assistant = Assistant(
        retriever=retriever,
        offline=offline,
        llm=llm,
        refusal=RefusalConfig.from_settings(settings.answerability),
        config=settings.ask,
        # a small local model would add seconds to every follow-up: the offline rewrite condenses them
        condenser=llm if local_server is None else None,
    )
    return Components(
        settings=settings,
        embedder=embedder,
        store=store,
        pipeline=pipeline,
        retriever=retriever,
        assistant=assistant,
        drafter=ReplyDrafter(retriever, offline, settings.drafting),
        local_server=local_server,
    )


def _llm_answerer(client: openai.OpenAI, model: str, config: LLMAnswerConfig) -> LLMAnswerer:
    """An LLM answerer sized by its part of the settings (`local_llm` or `remote_llm`)."""
    from bot.answering.llm import LLMAnswerer

    return LLMAnswerer(
        client,
        model,
        max_tokens=config.max_tokens,
        temperature=config.temperature,
        passage_words=config.passage_words,
        max_passages=config.passages,
    )


def start_local_server(settings: Settings) -> LocalLLMServer:
    """llama.cpp's server with the installed local model on loopback (LLMUnavailable says how to install it)."""
    from bot.local_model import QWEN_1_5B, model_path

    server = LocalLLMServer(
        model_path(QWEN_1_5B),
        threads=settings.llm_threads,
        context=settings.llm_context,
        log_dir=settings.chroma_path if not settings.server_mode else None,
        chat_format=QWEN_1_5B.chat_format,
    )
    return server.start()
