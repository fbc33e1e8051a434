"""Progress that suits its output: a live bar on a terminal, a few plain lines in a log (issue 14)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from bot.components import build_components
from bot.settings import Settings
from ingest.progress import Progress


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_a_log_gets_a_few_plain_lines_and_a_terminal_the_live_bar() -> None:
    log = io.StringIO()
    bar = Progress(total=250, desc="ingest", unit="file", stream=log)
    for _ in range(250):
        bar.update(1)
    bar.close()
    text = log.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert 2 <= len(lines) <= 11, lines
    assert lines[-1].startswith("ingest: 100%|") and "250/250" in lines[-1]
    done = [int(m) for m in re.findall(r"\| *(\d+)/250", text)]
    assert done == sorted(done) and done[0] < 250

    tty = Terminal()
    live = Progress(total=250, desc="ingest", unit="file", stream=tty)
    for _ in range(250):
        live.update(1)
    live.close()
    assert "\r" in tty.getvalue(), "a terminal keeps the live, redrawn bar"


def test_a_log_gets_its_final_count_when_items_stop_short() -> None:
    log = io.StringIO()
    bar = Progress(total=40, desc="ingest", unit="file", stream=log)
    bar.update(3)
    bar.close()
    assert log.getvalue().splitlines()[-1].split("|")[-1].strip().startswith("3/40")


def test_ingest_into_a_log_writes_plain_lines(
    library: Path, embedder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    comps = build_components(Settings(chroma_path=tmp_path / "idx", collection="progress"), embedder=embedder)
    summary = comps.pipeline.run([library], progress=True)
    err = capsys.readouterr().err
    files = summary.added
    assert files >= 10 and "\r" not in err
    lines = [line for line in err.splitlines() if line.startswith("ingest:")]
    assert 1 <= len(lines) <= 11
    assert lines[-1].startswith("ingest: 100%") and f"{files}/{files}" in lines[-1]
