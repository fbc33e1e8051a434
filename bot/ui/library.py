"""The Library tab's logic (no Gradio here): document table, safe uploads, ingest reports.

Uploads are saved under `<corpus_dir>/uploads/` and the library folder is then synced with the ingest
pipeline, rooted at `corpus_dir` like `helpdesk ingest` and the re-index button, so that a document keeps
one id (its path relative to the library folder) whichever way it was ingested. Ingest writes the store;
this module only calls it and refreshes the retriever's view.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import stat
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import HelpdeskError, IngestError
from bot.types import DocumentRecord

if TYPE_CHECKING:  # the server builds the UI before it imports llama-index (bot/deferred.py)
    from bot.retrieval import HybridRetriever
    from ingest.pipeline import IngestPipeline, IngestSummary

UPLOADS = "uploads"
UPLOAD_EXTENSIONS = (".md", ".txt", ".html", ".htm", ".pdf")
DOCUMENT_COLUMNS = ["Title", "Type", "Country", "Chunks", "Last ingested", "File"]
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_upload_name(name: str) -> str:
    """A plain file name for an uploaded file: no folders, no '..', no hidden or odd characters.

    '../../etc/passwd.md' → 'passwd.md'; 'Rapport été 2024.PDF' → 'Rapport-ete-2024.pdf'.
    """
    base = re.split(r"[\\/]", name.strip())[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = _UNSAFE.sub("-", stem).strip(".-_")
    stem = re.sub(r"-{2,}", "-", stem)[:100] or "upload"
    ext = _UNSAFE.sub("", ext).lower()[:10]
    return f"{stem}.{ext}" if ext else stem


def upload_target(uploads_dir: Path, name: str) -> Path:
    """Where an upload called `name` is saved: always a direct child of `uploads_dir`."""
    folder = uploads_dir.resolve()
    target = (folder / safe_upload_name(name)).resolve()
    if target.parent != folder:  # cannot happen after safe_upload_name; checked because it matters
        raise IngestError(name, "unsafe file name")
    return target


@dataclass
class LibraryReport:
    """What an upload or re-index did, for the page."""

    summary_line: str = ""
    saved: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    other_errors: int = 0
    failed: bool = False
    errors_title: str = "**Could not be added** (the file was not kept):"

    def markdown(self) -> str:
        """Status for the page: escaped, one line per file error."""
        blocks = []
        failed = {e.split(": ", 1)[0] for e in self.errors}
        added = [s for s in self.saved if s not in failed]
        if added:
            blocks.append("✔ Added to the library folder: " + ", ".join(f"`{s}`" for s in added) + ".")
        if self.errors:
            blocks.append(self.errors_title + "\n\n" + "\n".join(f"- ✖ {_esc(e)}" for e in self.errors))
        if self.summary_line:
            blocks.append(("⚠ " if self.failed else "") + _esc(self.summary_line))
        if self.other_errors:
            blocks.append(
                f"{self.other_errors} other file(s) of the library folder have problems: use Re-index to list them."
            )
        return "\n\n".join(blocks)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _error_line(err: IngestError) -> str:
    return f"{Path(err.path).name}: {err.reason}"


def check_received(path: Path, received_in: Path, name: str) -> None:
    """Refuse anything but a regular file inside `received_in` (Gradio's upload folder): no link, nothing else.

    An event's file input is a path the client names; only files Gradio itself received may be added.
    """
    try:
        regular = stat.S_ISREG(path.lstat().st_mode)  # lstat: a link is not a regular file
        inside = path.resolve(strict=True).is_relative_to(received_in.resolve())
    except (OSError, RuntimeError):
        regular = inside = False
    if not (regular and inside):
        raise IngestError(name, "refused: not a file received by this upload")


def save_upload(source: Path, original_name: str, uploads_dir: Path, max_file_mb: float) -> Path:
    """Copy an uploaded temp file into the uploads folder under a safe name; IngestError when refused."""
    name = safe_upload_name(original_name)
    if not name.lower().endswith(UPLOAD_EXTENSIONS):
        raise IngestError(name, "unsupported file type (supported: .md .txt .html .pdf)")
    from ingest.loaders.base import check_size

    check_size(name, source.stat().st_size, max_file_mb)
    uploads_dir.mkdir(parents=True, exist_ok=True)
    target = upload_target(uploads_dir, name)
    shutil.copyfile(source, target)
    return target


def ingest_uploads(
    pipeline: IngestPipeline,
    retriever: HybridRetriever,
    files: list[tuple[Path, str]],
    corpus_dir: Path,
    max_file_mb: float,
    progress: bool = False,
    received_in: Path | None = None,
) -> LibraryReport:
    """Save uploaded files (temp path, original name) and ingest them; a file that fails is not kept.

    With `received_in`, a temp path outside that folder (or a link) is refused before anything is read.
    """
    report = LibraryReport()
    uploads_dir = corpus_dir / UPLOADS
    saved: dict[Path, bytes | None] = {}  # resolved saved file → previous content (restored if the new one fails)
    for temp, original in files:
        try:
            if received_in is not None:
                check_received(temp, received_in, safe_upload_name(original))
            target = upload_target(uploads_dir, original)
            previous = target.read_bytes() if target.exists() else None
            path = save_upload(temp, original, uploads_dir, max_file_mb)
        except IngestError as exc:
            report.errors.append(_error_line(exc))
            continue
        except OSError as exc:
            report.errors.append(f"{safe_upload_name(original)}: cannot save the file ({exc.strerror or exc})")
            continue
        saved[path.resolve()] = previous
        report.saved.append(path.name)
    if not saved:
        report.failed = True
        return report
    summary = _run(pipeline, retriever, corpus_dir, progress, report)
    if summary is None:
        for path, previous in saved.items():
            _restore(path, previous)
        return report
    for err in summary.errors:
        path = Path(err.path).resolve()
        if path in saved:
            report.errors.append(_error_line(err))
            _restore(path, saved[path])
        else:
            report.other_errors += 1
    return report


def reindex(
    pipeline: IngestPipeline, retriever: HybridRetriever, corpus_dir: Path, progress: bool = False
) -> LibraryReport:
    """Sync the whole library folder with the index (added, updated, removed files) and list every error."""
    report = LibraryReport(errors_title="**Files that could not be indexed** (fix or remove them):")
    summary = _run(pipeline, retriever, corpus_dir, progress, report)
    if summary is not None:
        report.errors.extend(_error_line(e) for e in summary.errors)
    return report


def _run(
    pipeline: IngestPipeline, retriever: HybridRetriever, corpus_dir: Path, progress: bool, report: LibraryReport
) -> IngestSummary | None:
    try:
        summary = pipeline.run([corpus_dir], progress=progress, lock_wait=10.0)
    except HelpdeskError as exc:
        report.failed = True
        report.summary_line = f"Ingest did not run: {exc}"
        return None
    report.summary_line = "Library: " + summary.line()
    retriever.refresh(force=True)
    return summary


def _restore(path: Path, previous: bytes | None) -> None:
    """Put back the file an upload replaced, or remove a new file that could not be ingested."""
    if previous is None:
        path.unlink(missing_ok=True)
    else:
        path.write_bytes(previous)


def document_rows(records: dict[str, DocumentRecord], query: str = "") -> list[list[Any]]:
    """Rows of the documents table, newest first, filtered by words of `query` (title, type, place, topics)."""
    needles = [w for w in query.casefold().split() if w]
    rows = []
    for rec in sorted(records.values(), key=lambda r: (r.ingested_at, r.title), reverse=True):
        hay = " ".join(
            [rec.title, rec.doc_type, rec.country, rec.region, rec.project, rec.source_path, *rec.topics]
        ).casefold()
        if all(n in hay for n in needles):
            rows.append(
                [
                    rec.title,
                    rec.doc_type.replace("_", " "),
                    ", ".join(x for x in (rec.region, rec.country) if x),
                    rec.n_chunks,
                    rec.ingested_at.replace("T", " ").replace("+00:00", " UTC"),
                    rec.source_path,
                ]
            )
    return rows


_COVERAGE_CACHE: dict[str, tuple[Path, str]] = {}


def coverage_view(records: dict[str, DocumentRecord], top: int = 25) -> tuple[str | None, str]:
    """The Library tab's coverage picture: the heat-map PNG's path (None when empty) and the gaps in words.

    Drawn again only when the library changed (keyed by the documents' versions); files go to a temp folder.
    """
    from bot.coverage import DEFAULT_TOP, coverage_map, coverage_png

    key = hashlib.sha256(repr(sorted((d, r.version) for d, r in records.items())).encode()).hexdigest()[:16]
    if key not in _COVERAGE_CACHE:
        cov = coverage_map(records.values())
        if not cov.total_documents:
            return None, "The library is empty: no coverage to show."
        folder = Path(tempfile.mkdtemp(prefix="helpdesk-coverage-"))
        png = coverage_png(cov, folder / f"coverage-{key}.png", top or DEFAULT_TOP)
        gaps = cov.gap_lines(top)
        words = (
            f"**Gaps** (empty cells among the {min(top, len(cov.topics))} topics with most documents; "
            "`helpdesk coverage --out DIR` writes the full matrix):\n\n" + "\n".join(f"- {_esc(g)}" for g in gaps)
            if gaps
            else "No gaps among the shown topics."
        )
        _COVERAGE_CACHE.clear()  # one library per process: keep the latest picture only
        _COVERAGE_CACHE[key] = (png, words)
    png, words = _COVERAGE_CACHE[key]
    return str(png), words


def library_stats(records: dict[str, DocumentRecord]) -> str:
    """'12 documents, 340 passages' for the tab's header."""
    chunks = sum(r.n_chunks for r in records.values())
    return f"{len(records)} documents, {chunks} passages in the index."
