"""`helpdesk ingest --if-changed` (what `make run` runs): an unchanged library is seen without opening the index,
and anything that may have changed the library or the index leads to a full check (ingest/sync_stamp.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.components import build_components
from bot.settings import Settings

HELPDESK = Path(sys.executable).parent / "helpdesk"

pytestmark = pytest.mark.slow


def ingest(library: Path, index: Path, *extra: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env |= {"HELPDESK_CHROMA_PATH": str(index), "HELPDESK_CORPUS_DIR": str(library), "HELPDESK_COLLECTION": "stamp"}
    command = [str(HELPDESK), "ingest", "--if-changed", "--quiet", *extra]
    res = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in res.stderr, res.stderr
    return res.stdout.strip().splitlines()[-1]


def test_an_unchanged_library_is_skipped_and_every_change_is_ingested(library: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    first = ingest(library, index)
    assert first.startswith("added ") and "failed 0" in first
    assert ingest(library, index).startswith("unchanged since the last complete ingest")

    (library / "malta.md").write_text("---\ntitle: Maltese vouchers\ncountry: Malta\n---\n\nVouchers in Malta.\n")
    assert ingest(library, index).startswith("added 1,")  # a new file
    assert ingest(library, index).startswith("unchanged since")

    os.utime(library / "malta.md", ns=(1, 1))  # touched: checked again (its content decides: unchanged)
    assert ingest(library, index).startswith("added 0, updated 0, unchanged")

    (library / "broken.pdf").write_bytes(b"%PDF-1.7 not really")
    assert "failed 1" in ingest(library, index)
    assert "failed 1" in ingest(library, index)  # a failed ingest leaves no note: reported again each time
    (library / "broken.pdf").unlink()
    assert "removed 0" in ingest(library, index)
    assert ingest(library, index).startswith("unchanged since")
    assert ingest(library, index, "--reset").startswith("added ")  # --reset always rebuilds


def test_an_ingest_by_another_way_makes_the_next_one_check_everything(library: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    ingest(library, index)
    assert ingest(library, index).startswith("unchanged since")
    # the Library tab (or any other process) writes the index through the pipeline
    settings = Settings(chroma_path=index, corpus_dir=library, collection="stamp")
    comps = build_components(settings, use_llm=False)
    comps.pipeline.run([library], progress=False)
    from bot.store import forget_open_clients

    forget_open_clients()
    assert ingest(library, index).startswith("added 0, updated 0, unchanged")
