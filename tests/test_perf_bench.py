"""`helpdesk bench query --library PATH`: any library, CPU ms per answer beside wall time, machine info."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bot.cli import main
from tests.conftest import CORPUS


def test_bench_query_runs_on_each_library_given_and_reports_cpu_ms(tmp_path: Path) -> None:
    one, two = tmp_path / "vouchers", tmp_path / "clusters"
    for folder, names in (
        (one, ["pb-vouchers-competitiveness-smes-2021.md"]),
        (two, ["clusterix2-final-event-future-clusters.md", "oecd-competitive-regional-clusters-2007.md"]),
    ):
        folder.mkdir()
        for name in names:
            shutil.copy(CORPUS / name, folder / name)
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": "a", "question": "How big are innovation vouchers for SMEs?", "gold_doc_ids": []}\n')
    out = tmp_path / "bench"
    args = ["bench", "query", "--scale", "1", "--library", str(one), "--library", str(two)]
    assert main([*args, "--questions", str(questions), "--repeats", "2", "--out", str(out)]) == 0

    report = json.loads((out / "query.json").read_text())
    assert report["machine"]["cpu_model"] and report["machine"]["cpu_count"] >= 1
    assert [(r["library"], r["documents"]) for r in report["runs"]] == [("vouchers", 1), ("clusters", 2)]
    assert set(report["libraries"]) == {"vouchers", "clusters"}
    for run in report["runs"]:
        assert run["queries"] == 2
        assert 0 < run["cpu_ms"]["p50"] <= run["cpu_ms"]["p95"] <= run["cpu_ms"]["max"]
        assert run["cpu_ms_mean"] > 0 and run["end_to_end_ms"]["p50"] > 0
    md = (out / "query.md").read_text()
    assert "CPU ms per answer" in md and "| clusters | ×1 | 2 |" in md
