"""Objects parsed from a model's files once, then kept on disk for every later process that starts.

Every process that answers or ingests loads USE's tokenizer, parsed from sentencepiece's protobuf in pure
Python (0.9 s on this machine's cores), and py3langid's model, LZMA-decompressed (0.5 s): the app pays both at
every start, in its answering workers' fork server, and so does every `helpdesk` command. Unpickling what they
built takes 0.13 s and 0.05 s. So the parsed object is pickled to `<cache>/policy-helpdesk/derived/`, under a
key made of the source file (path, size, modification time), the package's version, Python's version and a
version of the recipe: a new wheel, or another Python, builds and keeps a new one. The objects are plain
Python and numpy data, the same on every CPU.

Written by hand: joblib.Memory (installed) unpickles with its pure-Python unpickler, which was measured at
0.99 s for the tokenizer, as slow as parsing it. Pickle runs what a file says: these files are only ever
written by this user's own processes, in this user's cache folder (as pip's and Hugging Face's caches are).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


def cache_root() -> Path:
    """This machine's cache folder for the project: shared by its clones, outside any repository."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "policy-helpdesk"


def package_version(name: str) -> str:
    """The installed version of distribution `name` ('' when not installed)."""
    with contextlib.suppress(PackageNotFoundError):
        return version(name)
    return ""


def cache_key(source: Path, recipe: str) -> str:
    """What a kept object depends on: its source file as it is now, the recipe, and the Python that pickled it."""
    stat = source.stat()
    parts = [str(source.resolve()), str(stat.st_size), str(stat.st_mtime_ns), recipe, sys.version]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def derived(name: str, source: Path, recipe: str, build: Callable[[], T], folder: Path | None = None) -> T:
    """`build()`'s result for `source`, from the cache when it holds one for the same key; kept there if not.

    `recipe` names what `build` does and with which package version (a change makes a new key). A cache file
    that cannot be read is built again and replaced; a cache folder that cannot be written only costs the time.
    """
    folder = folder or cache_root() / "derived"
    path = folder / f"{name}-{cache_key(source, recipe)}.pickle"
    try:
        with path.open("rb") as f:
            return pickle.load(f)  # written by this user's own processes: see the module docstring
    except FileNotFoundError:
        pass
    except Exception as exc:  # a torn or foreign file: build it again
        log.warning("rebuilding the cached %s (%s: %s)", name, path, exc)
    value = build()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}-")
    except OSError as exc:
        log.info("could not keep %s in %s: %s", name, folder, exc)
        return value
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)  # atomic: a process loading meanwhile sees the whole file or none
    except Exception as exc:  # a full disk, or an object that does not pickle: only the time is lost
        log.info("could not keep %s in %s: %s", name, folder, exc)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return value
