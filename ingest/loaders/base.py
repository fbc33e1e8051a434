"""What every loader returns, and the checks every loader shares (size, empty, binary, UTF-8)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import LoaderLimits
from bot.errors import IngestError
from bot.types import DOCUMENT_FIELDS, DocumentMetadata

# front-matter / sidecar keys read: the document's id and its metadata (language is read on its own, below)
KNOWN_FIELDS = ("id", *(name for name in DOCUMENT_FIELDS if name != "language"))


@dataclass
class DocPart:
    """A run of text: Markdown-ish (with # headings) for md/html/txt, one page for PDFs."""

    text: str
    page: int | None = None


@dataclass
class LoadedDocument(DocumentMetadata):
    """A parsed file with its document-level metadata (DocumentMetadata), before chunking."""

    doc_id: str
    path: Path
    source_path: str
    format: str
    parts: list[DocPart]
    pages: int = 0
    warnings: list[str] = field(default_factory=list)


def check_size(name: str | Path, size: int, max_mb: float) -> None:
    """The one file-size limit (MiB, as HELPDESK_MAX_FILE_MB says): IngestError naming the file when over it."""
    if size > max_mb * 2**20:
        raise IngestError(name, f"file is too large ({size / 2**20:.1f} MB > limit {max_mb:g} MB)")


def default_doc_id(path: Path, root: Path) -> str:
    """A document's id when it declares none: its path relative to the ingested folder, without extension."""
    try:
        rel = path.resolve().relative_to(root.resolve())
    except ValueError:
        rel = Path(path.name)
    return rel.with_suffix("").as_posix()


def relative_source(path: Path, root: Path) -> str:
    """Path relative to the ingested folder (POSIX), or the file name when outside it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def read_bytes_checked(path: Path, limits: LoaderLimits) -> bytes:
    """Read a file, refusing links, over-large and empty ones."""
    if path.is_symlink():  # checked again here: the file may have been swapped for a link since it was found
        raise IngestError(path, "symbolic link (not followed: only files stored in the library folder are ingested)")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError(path, f"cannot read file ({exc.strerror or exc})") from exc
    check_size(path, size, limits.max_file_mb)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(path, f"cannot read file ({exc.strerror or exc})") from exc
    if not data.strip():
        raise IngestError(path, "file is empty")
    return data


def decode_text(path: Path, data: bytes) -> str:
    """Decode UTF-8 text, rejecting binary content and invalid encodings with a clear reason."""
    if b"\x00" in data[:8192]:
        raise IngestError(path, f"binary content in a '{path.suffix}' file (not text)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(path, f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8") from exc
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > 0.05 * min(len(text), 8192):
        raise IngestError(path, f"binary content in a '{path.suffix}' file (not text)")
    if not text.strip():
        raise IngestError(path, "file is empty")
    return text


def normalise_whitespace(text: str) -> str:
    """Collapse runs of spaces, keep paragraph breaks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = re.sub(r"[ \t\f\v]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def first_heading(text: str) -> str:
    """The first Markdown heading's text, or ''."""
    m = re.search(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, flags=re.M)
    return m.group(1).strip() if m else ""


_FILE_LIKE = re.compile(r"\.(pdf|docx?|odt|rtf|indd|qxd|pptx?|xlsx?|txt|html?|tex|dvi|ps)\b", re.I)
_PLACEHOLDER = re.compile(
    r"^(microsoft (word|powerpoint|excel)\b|untitled\b|document\s*\d*$|title$|no title$|"
    r"powerpoint presentation$|slide \d+$|page \d+$|layout \d+$|print$|default$|none$|null$|n/?a$)",
    re.I,
)


def is_junk_title(title: str, file_stem: str = "") -> bool:
    """True when an embedded title cannot name a document for a reader.

    Junk: empty or very short (fewer than 4 letters: "TA"), mostly non-letters ("2019/1999"), file-name-like
    (an extension, "wp251rev_en", "Microsoft Word - x.docx", the file's own name) or a tool's placeholder
    ("Untitled", "Document1", "PowerPoint Presentation").
    """
    text = " ".join(str(title or "").split())
    letters = sum(ch.isalpha() for ch in text)
    if letters < 4 or letters < 0.5 * len(text.replace(" ", "")):
        return True
    if _FILE_LIKE.search(text) or _PLACEHOLDER.match(text):
        return True
    if " " not in text and re.search(r"[_\d]|[a-z][A-Z]", text):  # one token with _ or digits: an identifier
        return True
    stem = re.sub(r"[\W_]+", "", file_stem.lower())
    return bool(stem) and re.sub(r"[\W_]+", "", text.lower()) == stem


def coerce_metadata(path: Path, meta: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """Normalise front-matter/sidecar fields to strings and a topic list, warning about odd values."""
    out: dict[str, Any] = {}
    for key in KNOWN_FIELDS:
        value = meta.get(key)
        if value is None:
            continue
        if key == "topics":
            if isinstance(value, str):
                value = [t.strip() for t in value.split(",")]
            elif not isinstance(value, list):
                warnings.append(f"{path}: front matter 'topics' should be a list; ignored")
                continue
            out[key] = [str(t).strip() for t in value if str(t).strip() and "|" not in str(t)]
        elif isinstance(value, dict | list):
            warnings.append(f"{path}: front matter '{key}' should be text; ignored")
        else:
            out[key] = str(value).strip()
    if "id" in out and not re.fullmatch(r"[\w.\-/]{1,200}", out["id"]):
        warnings.append(f"{path}: front matter id '{out['id'][:40]}' has unsafe characters; using the file path")
        del out["id"]
    if "language" in meta and isinstance(meta["language"], str):
        out["language"] = meta["language"].strip()
    return out


def document_from_metadata(
    path: Path, root: Path, fmt: str, parts: list[DocPart], meta: dict[str, Any], title: str, **extra: Any
) -> LoadedDocument:
    """A LoadedDocument whose fields come from coerced front matter / sidecar metadata."""
    return LoadedDocument(
        doc_id=meta.get("id") or default_doc_id(path, root),
        path=path,
        source_path=relative_source(path, root),
        format=fmt,
        parts=parts,
        title=title or path.stem.replace("-", " ").replace("_", " "),
        **{name: meta[name] for name in DOCUMENT_FIELDS if name != "title" and name in meta},
        **extra,
    )
