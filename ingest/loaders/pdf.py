"""PDFs through pypdf, one part per page; metadata from a `NAME.pdf.meta.yaml` sidecar when present."""

from __future__ import annotations

import logging
from pathlib import Path

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
    title = meta.get("title") or str(info_title).strip()
    return document_from_metadata(path, root, "pdf", parts, meta, title, pages=n_pages, warnings=warnings)
