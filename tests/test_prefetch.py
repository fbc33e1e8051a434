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
