"""Imported once by the answering workers' fork server (bot/workers.py), before it forks a single worker.

What is loaded here, every worker (and every replacement of a lost one) inherits instead of loading again: the
Python modules (`bot.components`, llama-index, numpy: about 2 s) and, when it is fork-safe, the embedding model
the environment's settings name (USE's tokenizer and weights: about 1.8 s), with tiktoken's tables (the
chunker's) and py3langid's model (the question's language). Only state that survives a fork
belongs here: plain Python and numpy, no thread pool, no open connection; so no store is opened here.

Nothing here may stop the fork server: a setting it cannot read (the app's settings may also have been made
in code, not from the environment) only means that each worker loads its model itself, as before.
"""

from __future__ import annotations

import logging

import bot.components  # noqa: F401  (the modules every worker needs)
from bot.lexical import guess_language
from bot.models import load_embedder
from bot.settings import load_settings

log = logging.getLogger(__name__)


def preload() -> str | None:
    """Load the settings' embedding model into this process if it may be shared by forking; its name, or None."""
    try:
        settings = load_settings()
        embedder = load_embedder(settings.embed_model, settings.embed_batch_size)
        if not embedder.fork_safe:
            return None
        embedder.backend()
        from llama_index.core.utils import get_tokenizer

        get_tokenizer()  # the chunker's token counter (tiktoken's tables), also built by every worker
        guess_language("innovation vouchers")  # py3langid's model (numpy arrays), used on every question
        return embedder.model_name
    except Exception as exc:  # see the module docstring: never fatal here
        log.warning("answering workers will load their models themselves: %s", exc)
        return None


PRELOADED = preload()
