"""A small family of errors whose messages a helpdesk officer can act on."""

from __future__ import annotations

from pathlib import Path


class HelpdeskError(Exception):
    """Base class: the message is meant for people, never a traceback."""


class IngestError(HelpdeskError):
    """A file could not be ingested; names the file and the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self) -> tuple[type, tuple[str, str]]:  # pickled by the loader process (ingest/prefetch.py)
        return (type(self), (self.path, self.reason))


class StoreUnavailable(HelpdeskError):
    """The Chroma store cannot be reached or opened."""


class IndexMismatch(HelpdeskError):
    """The index was built with another embedding model; a re-index is needed."""


class LLMUnavailable(HelpdeskError):
    """The configured OpenAI-compatible endpoint failed."""


class QuestionRejected(HelpdeskError):
    """The question is empty, too long or otherwise unusable."""


class IngestBusy(HelpdeskError):
    """Another ingest holds the lock on this store."""


class SettingsInvalid(HelpdeskError):
    """A HELPDESK_* setting (environment or .env) has a value that cannot be used."""
