"""Walk folders, hash files, compare with the store: the plan (load/keep/remove)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import IngestError
from bot.types import DocumentRecord
from ingest.loaders import SUPPORTED_EXTENSIONS
from ingest.loaders.base import check_size
from ingest.loaders.pdf import sidecar_path

SIDECAR_SUFFIX = ".meta.yaml"
SYMLINK_REASON = "symbolic link (not followed: only files stored inside the library folder are ingested)"


@dataclass
class SourceFile:
    """A file found on disk with its content hash (file bytes plus any metadata sidecar)."""

    path: Path
    root: Path
    rel: str
    content_hash: str

    @property
    def key(self) -> tuple[str, str]:
        """Identity of the file on disk: (ingested folder, relative path)."""
        return (str(self.root), self.rel)


@dataclass
class Plan:
    """What a run will do."""

    load: list[tuple[SourceFile, DocumentRecord | None]] = field(default_factory=list)
    keep: list[tuple[SourceFile, DocumentRecord]] = field(default_factory=list)
    remove: list[DocumentRecord] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)
    roots: list[Path] = field(default_factory=list)


def content_hash(path: Path, max_mb: float) -> str:
    """sha256 of the file (and its sidecar); refuses files over `max_mb` MiB before reading them."""
    check_size(path, path.stat().st_size, max_mb)
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    side = sidecar_path(path)
    if side.is_symlink():
        raise IngestError(side, SYMLINK_REASON)
    if side.exists():
        h.update(b"\0sidecar\0")
        h.update(side.read_bytes())
    return h.hexdigest()


def version_of(content: str, signature: str) -> str:
    """A document version: its content under one chunking/embedding pipeline."""
    return hashlib.sha256(f"{content}\n{signature}".encode()).hexdigest()[:32]


def outside_reason(path: Path, root: Path) -> str | None:
    """Why `path` must not be read as part of the library `root` (a link, or not inside it), or None."""
    if path.is_symlink():
        return SYMLINK_REASON
    if not path.resolve().is_relative_to(root.resolve()):
        return "outside the library folder (not followed)"
    return None


def _candidates(folder: Path) -> tuple[list[Path], list[IngestError]]:
    """Regular files under `folder` (hidden ones and sidecars skipped); links are refused, never followed."""
    out: list[Path] = []
    refused: list[IngestError] = []
    for p in sorted(folder.rglob("*")):
        rel_parts = p.relative_to(folder).parts
        if any(part.startswith(".") for part in rel_parts):
            continue
        reason = outside_reason(p, folder)
        if reason:  # a link (to a file or a folder) could expose any file the app can read
            refused.append(IngestError(p, reason))
            continue
        if not p.is_file() or p.name.endswith(SIDECAR_SUFFIX):
            continue
        out.append(p)
    return out, refused


def discover(paths: list[Path], max_mb: float) -> tuple[list[SourceFile], list[IngestError], list[Path]]:
    """Files to ingest under `paths`, errors for unusable ones, and the folders scanned (for removals)."""
    files: list[SourceFile] = []
    errors: list[IngestError] = []
    roots: list[Path] = []
    for given in paths:
        if given.is_symlink() and not given.is_dir():
            errors.append(IngestError(given, SYMLINK_REASON))
            continue
        path = given.resolve()
        if path.is_dir():
            roots.append(path)
            candidates, refused = _candidates(path)
            errors.extend(refused)
            found = [(p, path) for p in candidates]
        elif path.is_file():
            found = [(path, path.parent)]
        else:
            errors.append(IngestError(given, "no such file or folder"))
            continue
        for p, root in found:
            if p.suffix.lower() not in SUPPORTED_EXTENSIONS:
                errors.append(
                    IngestError(p, f"unsupported file type '{p.suffix or '(none)'}' (supported: .md .txt .html .pdf)")
                )
                continue
            try:
                digest = content_hash(p, max_mb)
            except IngestError as exc:
                errors.append(exc)
                continue
            except OSError as exc:
                errors.append(IngestError(p, f"cannot read file ({exc.strerror or exc})"))
                continue
            files.append(SourceFile(path=p, root=root, rel=p.relative_to(root).as_posix(), content_hash=digest))
    return files, errors, roots


def make_plan(paths: list[Path], records: dict[str, DocumentRecord], signature: str, max_mb: float) -> Plan:
    """Compare the files on disk with the committed records."""
    files, errors, roots = discover(paths, max_mb)
    by_key = {(r.source_root, r.source_path): r for r in records.values()}
    plan = Plan(errors=errors, roots=roots)
    seen: set[tuple[str, str]] = {f.key for f in files}
    seen |= {(str(Path(e.path).resolve().parent), Path(e.path).name) for e in errors}
    for f in files:
        rec = by_key.get(f.key)
        if rec is not None and rec.version == version_of(f.content_hash, signature):
            plan.keep.append((f, rec))
        else:
            plan.load.append((f, rec))
    root_names = {str(r) for r in roots}
    failed_paths = {str(Path(e.path).resolve()) for e in errors}
    for rec in records.values():
        if rec.source_root in root_names and (rec.source_root, rec.source_path) not in seen:
            if str(Path(rec.source_root) / rec.source_path) in failed_paths:
                continue  # a file that now fails keeps its last good version
            plan.remove.append(rec)
    return plan
