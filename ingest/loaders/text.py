"""Plain text files (no metadata besides the file name and an optional first-line title)."""

from __future__ import annotations

from pathlib import Path

from ingest.loaders.base import (
    DocPart,
    LoadedDocument,
    LoaderLimits,
    decode_text,
    default_doc_id,
    normalise_whitespace,
    read_bytes_checked,
    relative_source,
)


def load_text(path: Path, root: Path, limits: LoaderLimits) -> LoadedDocument:
    """Load a UTF-8 text file; its first non-empty short line serves as the title."""
    text = normalise_whitespace(decode_text(path, read_bytes_checked(path, limits)))
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    title = first if 0 < len(first) <= 120 else path.stem.replace("-", " ").replace("_", " ")
    return LoadedDocument(
        doc_id=default_doc_id(path, root),
        path=path,
        source_path=relative_source(path, root),
        format="text",
        title=title,
        parts=[DocPart(text=text)],
    )
