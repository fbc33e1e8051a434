"""A real `helpdesk ingest` killed with SIGKILL mid-run leaves every document fully old or fully new."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from bot.components import build_components
from bot.settings import Settings
from bot.store import forget_open_clients
from tests.conftest import SHARED_PDF
from tests.pdfs import write_pdf

PDF = "wp29-guidelines-automated-decision-making-profiling.pdf"


def _revise(lib: Path, revision: int) -> None:
    """Change every document so that the next ingest replaces all of them."""
    for md in lib.glob("*.md"):
        text = re.sub(r"\n\nRevision marker \d+\.\n$", "", md.read_text())
        md.write_text(text + f"\n\nRevision marker {revision}.\n")
    side = lib / f"{PDF}.meta.yaml"
    side.write_text(re.sub(r"revision: \d+\n", "", side.read_text()) + f"revision: {revision}\n")
    write_pdf(lib / "fruit.pdf", [f"Orchard page {p} revision {revision} on innovation vouchers." for p in (1, 2)])


def _fresh(settings: Settings):
    """Open the store as a new process would (the killed ingest wrote to the folder behind our back)."""
    forget_open_clients()
    return build_components(settings)


def _assert_consistent(settings: Settings) -> dict[str, str]:
    store = _fresh(settings).store
    records = store.documents()
    visible: dict[str, list] = defaultdict(list)
    for chunk in store.current_chunks():
        visible[chunk.doc_id].append(chunk)
    for doc_id, rec in records.items():
        chunks = visible.get(doc_id, [])
        assert len(chunks) == rec.n_chunks, f"{doc_id}: {len(chunks)} visible chunks, record says {rec.n_chunks}"
        assert {c.version for c in chunks} == {rec.version}, f"{doc_id} shows chunks of two versions"
        assert sorted(c.chunk_index for c in chunks) == list(range(rec.n_chunks)), f"{doc_id} half-present"
    assert set(visible) <= set(records)
    markers = {}
    for doc_id, chunks in visible.items():
        found = {int(m) for c in chunks for m in re.findall(r"[Rr]evision(?: marker)? (\d+)", c.text)}
        assert len(found) <= 1, f"{doc_id} mixes revisions {found}"
        markers[doc_id] = str(found.pop()) if found else "-"
    return markers


def _ingest_and_kill(settings: Settings, lib: Path, after_files: int) -> bool:
    """Start a real ingest subprocess and SIGKILL it once `after_files` files are done; True if killed."""
    env = {**os.environ, "HELPDESK_CHROMA_PATH": str(settings.chroma_path), "HELPDESK_COLLECTION": settings.collection}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "ingest", str(lib)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    os.set_blocking(proc.stderr.fileno(), False)
    buf = b""
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline:
        buf += proc.stderr.read() or b""
        done = [int(n) for n in re.findall(rb"ingest:\s+\d+%\|[^|]*\|\s*(\d+)/\d+", buf)]
        if done and max(done) >= after_files:
            time.sleep(0.05 * after_files)  # land somewhere inside the next file's writes
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    return False


@pytest.mark.slow
def test_sigkill_during_ingest_leaves_a_consistent_index(library: Path, tmp_path: Path) -> None:
    shutil.copy(SHARED_PDF / PDF, library / PDF)
    shutil.copy(SHARED_PDF / f"{PDF}.meta.yaml", library / f"{PDF}.meta.yaml")
    os.chmod(library / f"{PDF}.meta.yaml", 0o644)
    settings = Settings(chroma_path=tmp_path / "kill-index", collection="killtest")
    _revise(library, 1)
    first = build_components(settings).pipeline.run([library], progress=False)
    assert first.failed == 0
    killed = mixed = stale = 0
    for revision, after in ((2, 1), (3, 4), (4, 8), (5, 2)):
        _revise(library, revision)
        killed += _ingest_and_kill(settings, library, after)
        markers = _assert_consistent(settings)
        assert set(markers.values()) <= {str(r) for r in range(1, revision + 1)} | {"-"}
        mixed += len(set(markers.values()) - {"-"}) > 1  # some documents new, some still old
        store = _fresh(settings).store
        stale += store.count_chunks() - sum(r.n_chunks for r in store.documents().values())
    assert killed >= 3 and mixed >= 2, "the ingest should have been killed mid-run"
    print(f"killed {killed}, mixed {mixed}, stale chunks left for repair {stale}")

    # the next run completes the job and removes every leftover
    final = _fresh(settings).pipeline.run([library], progress=False)
    assert final.failed == 0
    markers = _assert_consistent(settings)
    assert {v for k, v in markers.items() if k.endswith(".pdf") is False and v != "-"} == {"5"}
    store = _fresh(settings).store
    records = store.documents()
    assert all(records[d].version == v for _, d, v in store.raw_chunk_versions()), "stale chunks left behind"
    assert store.count_chunks() == sum(r.n_chunks for r in records.values())


class Crash(BaseException):
    """Stands in for the process dying at an exact step (a SIGKILL cannot be aimed this precisely)."""


@pytest.mark.parametrize("step", ["before_commit", "before_cleanup"])
def test_crash_at_each_write_step_is_repaired(step: str, library: Path, embedder, monkeypatch) -> None:
    settings = Settings()
    comps = build_components(settings, embedder=embedder)
    comps.pipeline.run([library], progress=False)
    target = library / "clusterfy-project-summary.md"
    target.write_text(target.read_text() + "\n\nRevision marker 7.\n")
    store = comps.store
    if step == "before_commit":
        monkeypatch.setattr(store, "commit_document", lambda rec: (_ for _ in ()).throw(Crash()))
    else:
        real_delete = store.delete_chunks

        def delete(doc_id, except_version=None):
            if except_version is not None:
                raise Crash()
            return real_delete(doc_id, except_version=except_version)

        monkeypatch.setattr(store, "delete_chunks", delete)
    with pytest.raises(Crash):
        comps.pipeline.run([library], progress=False)
    monkeypatch.undo()

    fresh = build_components(settings, embedder=embedder)
    markers = _assert_consistent(settings)
    assert markers["clusterfy-project-summary"] == ("-" if step == "before_commit" else "7")
    assert fresh.store.count_chunks() > sum(r.n_chunks for r in fresh.store.documents().values())
    summary = fresh.pipeline.run([library], progress=False)
    assert summary.repaired > 0
    assert _assert_consistent(settings)["clusterfy-project-summary"] == "7"
    assert fresh.store.count_chunks() == sum(r.n_chunks for r in fresh.store.documents().values())
