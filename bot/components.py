"""The composition root: Settings → wired components. app.py, the CLI, the evals and the tests call it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answering.extractive import ExtractiveAnswerer
from bot.assistant import AskConfig, Assistant
from bot.models import OfflineEmbedding, load_embedder
from bot.retrieval import HybridRetriever
from bot.settings import Settings
from bot.store import ChunkStore
from ingest.chunking import Chunker
from ingest.loaders import LoaderLimits
from ingest.pipeline import IngestPipeline


@dataclass
class Components:
    """Everything a process needs, built once."""

    settings: Settings
    embedder: OfflineEmbedding
    store: ChunkStore
    pipeline: IngestPipeline
    retriever: HybridRetriever
    assistant: Assistant


def build_components(
    settings: Settings, embedder: OfflineEmbedding | None = None, use_llm: bool = True, reset_index: bool = False
) -> Components:
    """Open the store and wire the pipeline; the embedder may be passed in (tests count its calls)."""
    embedder = embedder or load_embedder(settings.embed_model, settings.embed_batch_size)
    store = ChunkStore.open(settings, embedder.model_name, embedder.dim, reset=reset_index)
    lock_dir = settings.chroma_path if not settings.server_mode else settings.chroma_path / "server-locks"
    pipeline = IngestPipeline(
        store=store,
        embedder=embedder,
        chunker=Chunker(settings.chunk_size, settings.chunk_overlap),
        limits=LoaderLimits(max_file_mb=settings.max_file_mb, max_pdf_pages=settings.max_pdf_pages),
        lock_path=lock_dir / f".ingest-{settings.collection}.lock",
        batch_size=settings.embed_batch_size,
    )
    retriever = HybridRetriever(store, embedder.get_query_embedding)
    offline = ExtractiveAnswerer(
        embed=lambda texts: embedder.encode(texts, is_query=False),
        idf=lambda t: retriever.lexical_index.idf(t),
        passage_terms=lambda chunk: retriever.lexical_index.terms_of(chunk),
    )
    llm = None
    if use_llm and settings.llm_enabled:
        from bot.answering.llm import LLMAnswerer, make_client

        client = make_client(settings.llm_base_url, settings.llm_api_key, settings.llm_timeout)
        llm = LLMAnswerer(client, settings.llm_model or "gpt-4o-mini")
    assistant = Assistant(
        retriever=retriever,
        offline=offline,
        llm=llm,
        config=AskConfig(max_question_chars=settings.max_question_chars),
        condenser=llm,
    )
    return Components(
        settings=settings,
        embedder=embedder,
        store=store,
        pipeline=pipeline,
        retriever=retriever,
        assistant=assistant,
    )
