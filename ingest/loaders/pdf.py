"""PDFs through pypdf, one part per page; metadata from a `NAME.pdf.meta.yaml` sidecar when present.

The title is the sidecar's, else the embedded title unless it is junk (`is_junk_title`: a public EU
regulation of 349 pages is titled "TA"), else the first heading of page 1 (the largest type on it), else
the file name. Heading detection is written by hand: pypdf reports each text run's font size through its
`visitor_text` hook, but has no notion of a heading.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from bot.errors import IngestError
from ingest.loaders.base import (
    DocPart,
    LoadedDocument,
    LoaderLimits,
    coerce_metadata,
    document_from_metadata,
    is_junk_title,
    normalise_whitespace,
    read_bytes_checked,
)

logging.getLogger("pypdf").setLevel(logging.ERROR)


def sidecar_path(path: Path) -> Path:
    """Where a PDF's metadata sidecar lives."""
    return path.with_name(path.name + ".meta.yaml")


def read_sidecar(path: Path, warnings: list[str]) -> dict:
    """The sidecar's fields, or {} (bad YAML warns)."""
    side = sidecar_path(path)
    if side.is_symlink():
        warnings.append(f"{side}: metadata sidecar is a symbolic link (not followed); ignored")
        return {}
    if not side.exists():
        return {}
    try:
        meta = yaml.safe_load(side.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        warnings.append(f"{side}: metadata sidecar unreadable ({type(exc).__name__}); ignored")
        return {}
    if not isinstance(meta, dict):
        warnings.append(f"{side}: metadata sidecar is not a mapping; ignored")
        return {}
    return meta


MAX_TITLE_CHARS = 200


def _compact(text: str) -> str:
    return "".join(text.split())


def page_heading(page: Any) -> str:
    """The first heading of a page: its lines set in the largest type, or '' when none is readable."""
    runs: list[tuple[float, str]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        scale = abs(float(tm[3]) * float(cm[3])) or 1.0
        if text.strip():
            runs.append((round(abs(float(size)) * scale, 1), text))

    try:
        plain = page.extract_text(visitor_text=visit) or ""
    except Exception:  # a page pypdf cannot read has no heading; the file name serves
        return ""
    lettered = [(s, t) for s, t in runs if sum(ch.isalpha() for ch in t) >= 2]
    if not lettered:
        return ""
    top = max(s for s, _ in lettered)
    # every run in the largest type (a cover title may be interleaved with smaller runs), in reading order
    big = [t for s, t in runs if s >= 0.95 * top]
    wanted = _compact("".join(big))
    # pypdf's runs may split words without spaces ("MATIÈR" + "E"): take the page's own lines that spell them
    lines = [ln.strip() for ln in plain.splitlines() if ln.strip()]
    for i, line in enumerate(lines):
        if not wanted.startswith(_compact(line)[:20]) or not _compact(line):
            continue
        taken, got = [], ""
        for nxt in lines[i:]:
            if not wanted.startswith(got + _compact(nxt)):
                break
            taken.append(nxt)
            got += _compact(nxt)
        if taken:
            return " ".join(" ".join(taken).split())[:MAX_TITLE_CHARS]
    return " ".join("".join(big).split())[:MAX_TITLE_CHARS]


def readable_title(path: Path, meta: dict, embedded: str, first_page: Any) -> str:
    """Sidecar title, else a non-junk embedded title, else page 1's heading, else '' (the file name)."""
    if meta.get("title"):
        return str(meta["title"])
    embedded = " ".join(str(embedded or "").split())
    if embedded and not is_junk_title(embedded, path.stem):
        return embedded[:MAX_TITLE_CHARS]
    heading = page_heading(first_page)
    if heading and not is_junk_title(heading, path.stem):
        return heading
    return ""


def load_pdf(path: Path, root: Path, limits: LoaderLimits) -> LoadedDocument:
    """Load a PDF page by page; broken, encrypted, over-long or image-only PDFs raise IngestError."""
    data = read_bytes_checked(path, limits)
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise IngestError(path, "not a PDF file (no %PDF header): broken or mislabelled")
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception as exc:  # pypdf raises several types for unsupported crypto
                raise IngestError(path, f"encrypted PDF, cannot be opened ({exc})") from exc
            if not ok:
                raise IngestError(path, "encrypted PDF: a password is required")
        n_pages = len(reader.pages)
    except IngestError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise IngestError(path, f"broken PDF ({type(exc).__name__}: {exc})") from exc
    if n_pages == 0:
        raise IngestError(path, "PDF has no pages")
    if n_pages > limits.max_pdf_pages:
        raise IngestError(path, f"PDF has {n_pages} pages (limit {limits.max_pdf_pages})")
    warnings: list[str] = []
    parts: list[DocPart] = []
    bad_pages = 0
    for number, page in enumerate(reader.pages, start=1):
        try:
            text = page.extract_text() or ""
        except Exception:  # one unreadable page must not lose the document
            bad_pages += 1
            continue
        text = normalise_whitespace(text)
        if text:
            parts.append(DocPart(text=text, page=number))
    if bad_pages:
        warnings.append(f"{path}: {bad_pages} page(s) could not be read and were skipped")
    if not parts:
        raise IngestError(path, "PDF has no extractable text (scanned images? run OCR first)")
    meta = coerce_metadata(path, read_sidecar(path, warnings), warnings)
    info_title = ""
    try:
        info_title = (reader.metadata.title or "") if reader.metadata else ""
    except Exception:
        info_title = ""
    title = readable_title(path, meta, str(info_title), reader.pages[0])
    return document_from_metadata(path, root, "pdf", parts, meta, title, pages=n_pages, warnings=warnings)
