"""One loader per format; `load_document` dispatches on the file extension."""

from __future__ import annotations

from pathlib import Path

from bot.errors import IngestError
from ingest.loaders.base import LoadedDocument, LoaderLimits
from ingest.loaders.html import load_html
from ingest.loaders.markdown import load_markdown
from ingest.loaders.pdf import load_pdf
from ingest.loaders.text import load_text

LOADERS = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".text": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
}
SUPPORTED_EXTENSIONS = tuple(LOADERS)


def load_document(path: Path, root: Path, limits: LoaderLimits | None = None) -> LoadedDocument:
    """Load one file into a LoadedDocument, or raise IngestError naming the file and the reason."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise IngestError(path, f"unsupported file type '{path.suffix or '(none)'}' (supported: .md .txt .html .pdf)")
    return loader(path, root, limits or LoaderLimits())


__all__ = ["SUPPORTED_EXTENSIONS", "LoadedDocument", "LoaderLimits", "load_document"]
