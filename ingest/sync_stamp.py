"""A note beside a local index: the library folder as the last complete ingest left it, so that an ingest of an
unchanged folder can stop before it imports anything.

`make run` ingests `corpus/` before every start ("builds the index if needed"). With nothing changed that run
found nothing to do but still cost 3.5 s, mostly importing llama-index and Chroma's client to open the index.
The note holds a fingerprint of every file under the folders (path, size, modification time), of the settings
(which name the model, the chunking and the collection) and of the project's version. `helpdesk ingest
--if-changed` compares it with the folders as they are, with the standard library only.

Whoever writes the index removes the note first (IngestPipeline.run, under the ingest lock), and only an ingest
that ended without a failed file writes it again: an interrupted, failed or different ingest (the Library
tab's upload, `--reset`, other folders) always leads to a full check the next time. A note is kept only for an
index folder this machine owns (embedded, or behind the app's loopback server), never for a remote Chroma
server that other machines may write to.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path


def stamp_path(lock_path: Path) -> Path:
    """Where the note of the index whose ingest lock is `lock_path` lives (one per index folder and collection)."""
    return lock_path.with_name(lock_path.name.removesuffix(".lock") + ".synced.json")


def fingerprint(paths: Iterable[Path], settings_json: str, version: str) -> tuple[str, int]:
    """A digest of every file under `paths` (path, size, modification time), the settings and the version; files."""
    digest = hashlib.sha256()
    digest.update(settings_json.encode())
    digest.update(version.encode())
    files = 0
    for root in sorted(Path(p).resolve() for p in paths):
        entries = [root] if root.is_file() else sorted(f for f in root.rglob("*") if f.is_file())
        digest.update(f"root {root}\n".encode())
        for f in entries:
            with contextlib.suppress(OSError):  # gone meanwhile: the digest differs, which is what it should
                stat = f.stat()
                digest.update(f"{f}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
                files += 1
    return digest.hexdigest(), files


def unchanged(stamp: Path, digest: str) -> bool:
    """True when the note says the last complete ingest saw exactly this digest."""
    try:
        return json.loads(stamp.read_text(encoding="utf-8")).get("fingerprint") == digest
    except (OSError, ValueError, AttributeError):
        return False


def write(stamp: Path, digest: str, files: int) -> None:
    """Keep the note (atomically); a folder that cannot be written only means a full check next time."""
    tmp = stamp.with_name(f".{stamp.name}.{os.getpid()}")
    with contextlib.suppress(OSError):
        tmp.write_text(json.dumps({"fingerprint": digest, "files": files}), encoding="utf-8")
        tmp.replace(stamp)


def forget(stamp: Path) -> None:
    """Remove the note: the index is about to change."""
    with contextlib.suppress(OSError):
        stamp.unlink(missing_ok=True)
