"""Markdown with YAML front matter."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.errors import IngestError
from ingest.loaders.base import (
    DocPart,
    LoadedDocument,
    LoaderLimits,
    coerce_metadata,
    decode_text,
    document_from_metadata,
    first_heading,
    read_bytes_checked,
)

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


def split_front_matter(path: Path, text: str, warnings: list[str]) -> tuple[dict, str]:
    """Return (front matter mapping, body). Bad YAML warns and falls back to no metadata."""
    if not text.startswith("---"):
        return {}, text
    m = _FRONT_MATTER.match(text)
    if not m:
        warnings.append(f"{path}: front matter is not closed by '---'; treated as plain Markdown")
        return {}, text
    body = text[m.end() :]
    try:
        meta = yaml.safe_load(m.group(1))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 2})" if where is not None else ""
        warnings.append(f"{path}: front matter is not valid YAML{line}; metadata ignored")
        return {}, body
    if meta is None:
        return {}, body
    if not isinstance(meta, dict):
        warnings.append(f"{path}: front matter is not a mapping of fields; metadata ignored")
        return {}, body
    return meta, body


def load_markdown(path: Path, root: Path, limits: LoaderLimits) -> LoadedDocument:
    """Load a Markdown file; front-matter fields become document metadata."""
    text = decode_text(path, read_bytes_checked(path, limits))
    warnings: list[str] = []
    raw_meta, body = split_front_matter(path, text, warnings)
    meta = coerce_metadata(path, raw_meta, warnings)
    if not body.strip():
        raise IngestError(path, "no text after the front matter")
    title = meta.get("title") or first_heading(body)
    if not meta.get("title") and raw_meta:
        warnings.append(
            f"{path}: front matter has no 'title'; using {'the first heading' if title else 'the file name'}"
        )
    return document_from_metadata(path, root, "markdown", [DocPart(text=body.strip())], meta, title, warnings=warnings)
