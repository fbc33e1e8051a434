"""HTML pages: main text with headings kept (as Markdown headings); scripts, styles and navigation dropped."""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup

from bot.errors import IngestError
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

_DROP = (
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "svg",
    "iframe",
    "template",
)
_BLOCKS = (
    "p",
    "div",
    "li",
    "tr",
    "br",
    "section",
    "article",
    "table",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "dd",
    "dt",
)


def html_to_markdown(html: str) -> tuple[str, str, dict[str, str]]:
    """Return (title, Markdown-ish text, meta tags) from an HTML string."""
    soup = BeautifulSoup(html, "html.parser")
    metas = {
        str(m.get("name") or m.get("property")).lower(): str(m.get("content"))
        for m in soup.find_all("meta")
        if (m.get("name") or m.get("property")) and m.get("content")
    }
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup.find_all(_DROP):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    for level in range(1, 7):
        for h in root.find_all(f"h{level}"):
            h.replace_with(f"\n\n{'#' * level} {h.get_text(' ', strip=True)}\n\n")
    for tag in root.find_all(_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = normalise_whitespace(root.get_text(""))
    return title, text, metas


def load_html(path: Path, root: Path, limits: LoaderLimits) -> LoadedDocument:
    """Load an HTML file; <title> or the first <h1> is the title, <link rel=canonical> the source URL."""
    raw = decode_text(path, read_bytes_checked(path, limits))
    title, text, metas = html_to_markdown(raw)
    if not text.strip():
        raise IngestError(path, "HTML page has no visible text")
    if not title:
        title = next((ln.lstrip("# ").strip() for ln in text.splitlines() if ln.startswith("# ")), path.stem)
    canonical = ""
    soup = BeautifulSoup(raw, "html.parser")
    link = soup.find("link", rel="canonical")
    if link and link.get("href"):
        canonical = str(link.get("href"))
    return LoadedDocument(
        doc_id=default_doc_id(path, root),
        path=path,
        source_path=relative_source(path, root),
        format="html",
        title=title,
        parts=[DocPart(text=text)],
        source_url=canonical or metas.get("og:url", ""),
        country=metas.get("country", ""),
        doc_type=metas.get("doc_type", ""),
        language=metas.get("language", ""),
    )
