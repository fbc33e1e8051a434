"""Files loaded one ahead in a loader process (ingest/prefetch.py): same documents, same order, same errors, and a
loader killed in the middle of a file costs only that file."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from bot.errors import IngestError
from ingest.loaders import LoaderLimits
from ingest.prefetch import loaded_in_order, worth_a_process
from ingest.sources import SourceFile
from tests.conftest import CORPUS, SHARED_PDF
from tests.pdfs import write_pdf

pytestmark = pytest.mark.slow


def sources(root: Path, names: list[str]) -> list[tuple[SourceFile, int]]:
    return [(SourceFile(root / n, root, n, "hash"), i) for i, n in enumerate(names)]


def _library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    root.mkdir()
    write_pdf(root / "vouchers.pdf", ["Innovation vouchers let SMEs buy services from universities."] * 3)
    (root / "note.md").write_text((CORPUS / sorted(os.listdir(CORPUS))[0]).read_text(encoding="utf-8"))
    (root / "broken.pdf").write_bytes(b"%PDF-1.7\n garbage that no parser reads")
    write_pdf(root / "clusters.pdf", ["Cluster policy in Saxony links three instruments."] * 2)
    return root


def test_the_loader_process_gives_what_loading_here_gives_in_plan_order(tmp_path: Path) -> None:
    root = _library(tmp_path)
    items = sources(root, ["vouchers.pdf", "note.md", "broken.pdf", "clusters.pdf"])
    assert worth_a_process([s for s, _ in items[:1]]) and not worth_a_process([s for s, _ in items[1:2]])
    here = list(loaded_in_order(items, LoaderLimits(), in_process=True))
    ahead = list(loaded_in_order(items, LoaderLimits(), in_process=False))
    assert [(s.rel, i) for s, i, _ in ahead] == [(s.rel, i) for s, i, _ in here] == [(s.rel, i) for s, i in items]
    for (_, _, got), (_, _, want) in zip(ahead, here, strict=True):
        if isinstance(want, IngestError):
            assert isinstance(got, IngestError) and str(got) == str(want) and got.reason == want.reason
        else:
            assert got.doc_id == want.doc_id and got.title == want.title
            assert [(p.text, p.page) for p in got.parts] == [(p.text, p.page) for p in want.parts]


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            kids += [int(c) for c in (task / "children").read_text().split()]
    return kids


def test_a_loader_killed_while_reading_a_file_fails_that_file_only(tmp_path: Path) -> None:
    big = sorted(SHARED_PDF.glob("*.pdf"), key=lambda p: p.stat().st_size)[-1]  # seconds of extraction
    root = _library(tmp_path)
    shutil.copy(big, root / big.name)
    items = sources(root, [big.name, "vouchers.pdf", "clusters.pdf"])
    killed: list[int] = []

    def loaders() -> set[int]:
        found: set[int] = set()
        for server in _children(os.getpid()):
            cmdline = b""
            with contextlib.suppress(OSError):
                cmdline = Path(f"/proc/{server}/cmdline").read_bytes()
            if b"forkserver" in cmdline:
                found |= set(_children(server))
        return found

    earlier = loaders()  # loaders of an earlier test may still be ending

    def kill_the_loader() -> None:  # a real fault: SIGKILL, as the OOM killer sends
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            started = loaders() - earlier
            if started:
                time.sleep(1.0)  # it has said it runs (ingest/prefetch.py) and is reading the big file now
                for loader in started:
                    os.kill(loader, signal.SIGKILL)
                    killed.append(loader)
            time.sleep(0.1)

    killer = threading.Thread(target=kill_the_loader)
    killer.start()
    got = list(loaded_in_order(items, LoaderLimits(), in_process=False))
    killer.join()
    assert killed
    (_, _, first), (_, _, second), (_, _, third) = got
    assert isinstance(first, IngestError) and "loader process stopped while reading this file" in first.reason
    assert first.path.endswith(big.name)
    assert not isinstance(second, IngestError) and "Innovation vouchers" in second.parts[0].text
    assert not isinstance(third, IngestError) and "Saxony" in third.parts[0].text


CLIENT = """
import os, sys
from pathlib import Path
from ingest.loaders import LoaderLimits
from ingest.prefetch import loaded_in_order
from ingest.sources import SourceFile

if __name__ == "__main__":
    root = Path(sys.argv[1])
    items = [(SourceFile(root / n, root, n, "hash"), n) for n in ("vouchers.pdf", "clusters.pdf")]
    next(iter(loaded_in_order(items, LoaderLimits(), in_process=False)))  # the loader is reading the next one
    print("loading", flush=True)
    sys.stdin.readline()
    os._exit(0)  # no shutdown of the pool: as a SIGKILL or a test runner's hard exit leaves it
"""


def test_the_loader_ends_with_a_client_that_ends_without_shutting_it_down(tmp_path: Path) -> None:
    import subprocess
    import sys
    import uuid

    root = _library(tmp_path)
    script = tmp_path / "client.py"
    script.write_text(CLIENT)
    mark = f"PREFETCH_TEST={uuid.uuid4().hex}"  # inherited by the client's fork server and loader only
    env = {**os.environ, "PREFETCH_TEST": mark.split("=")[1]}
    client = subprocess.Popen(
        [sys.executable, str(script), str(root)], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert client.stdout is not None and client.stdin is not None
    assert client.stdout.readline().strip() == "loading"
    assert len(_marked(mark) - {client.pid}) >= 2  # its fork server and its loader
    client.stdin.write("go\n")
    client.stdin.flush()
    assert client.wait(60) == 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _marked(mark):
        time.sleep(0.2)
    assert not _marked(mark)  # then ended with it


def _marked(mark: str) -> set[int]:
    """Processes whose environment holds `mark`."""
    found = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if mark.encode() in (proc / "environ").read_bytes().split(b"\0"):
                    found.add(int(proc.name))
    return found
