"""Markdown with YAML front matter."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from frontmatter.default_handlers import YAMLHandler

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


# python-frontmatter splits the block and loads it with yaml's safe loader. Its boundary is widened to
# accept YAML's `...` end-of-document line as the closing line (as pandoc does, and as this loader always
# did) and narrowed to not run past the line end. What the library would silently skip (an unclosed block,
# bad YAML, a list instead of fields) is reported here, so an officer learns why metadata was ignored.
class _FrontMatter(YAMLHandler):
    FM_BOUNDARY = re.compile(r"^(?:-{3,}|\.\.\.)[ \t\r]*$", re.MULTILINE)


_YAML = _FrontMatter()


def split_front_matter(path: Path, text: str, warnings: list[str]) -> tuple[dict, str]:
    """Return (front matter mapping, body). Bad YAML warns and falls back to no metadata."""
    if not text.startswith("---") or not _YAML.detect(text):
        return {}, text
    try:
        block, body = _YAML.split(text)
        body = body.removeprefix("\n")  # the closing line's newline
    except ValueError:
        warnings.append(f"{path}: front matter is not closed by '---'; treated as plain Markdown")
        return {}, text
    try:
        meta = _YAML.load(block)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        # the block starts at the end of the opening line: its line 0 is the file's line 1
        line = f" (line {where.line + 1})" if where is not None else ""
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
