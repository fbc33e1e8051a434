"""`helpdesk bench load`: 1 and 2 answering workers side by side, the app's start time, no import circle."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import ROOT

BENCH_MODULES = [
    "bench",
    "bench_common",
    "bench_ingest",
    "bench_load",
    "bench_query",
    "bench_replica",
    "bench_report",
    "bench_start",
]


def _bench_imports(name: str) -> set[str]:
    """The evals.bench* modules that evals/<name>.py imports (at any level of the file)."""
    tree = ast.parse((ROOT / "evals" / f"{name}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("evals.bench"):
            found.add(node.module.removeprefix("evals."))
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix("evals.") for a in node.names if a.name.startswith("evals.bench")}
    return found


def test_bench_modules_import_each_other_without_a_circle() -> None:
    graph = {name: _bench_imports(name) for name in BENCH_MODULES}
    assert graph["bench_common"] == set()
    assert not [name for name in BENCH_MODULES if "bench" in graph[name]]  # only the CLI imports the entry
    assert "bench_query" not in graph["bench_load"] and "bench_load" not in graph["bench_query"]

    def reaches(start: str, goal: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph.get(start, ()))

    assert not [name for name in BENCH_MODULES if reaches(name, name)]


@pytest.mark.slow
def test_bench_load_reports_one_and_two_workers_side_by_side(library: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["--users", "3", "--seconds", "4", "--workers", "1,2", "--corpus", str(library), "--out", str(out)]
    code = main(["bench", "load", *args])
    report = json.loads((out / "load.json").read_text())
    assert code == 0
    assert report["machine"]["cpu_model"] and report["machine"]["cpu_count"] >= 1
    starts = {s["workers"]: s for s in report["app_start"]}
    assert set(starts) == {1, 2} and all(0 < s["start_s"] < 300 for s in starts.values())
    steps = {s["workers"]: s for s in report["steps"]}
    assert set(steps) == {1, 2}
    for step in steps.values():
        assert step["users"] == 3 and step["requests"] >= 3 and step["rps"] > 0
        assert step["errors"] == 0 and step["cross_talk"] == 0
        assert len(step["load_1m"]) == 2
    text = (out / "load.md").read_text()
    assert "1 worker(s): answers/s, p95 ms | 2 worker(s): answers/s, p95 ms" in text
    assert "first answer after" in text and report["machine"]["cpu_model"] in text


def test_bench_start_times_make_run_on_an_existing_index(library: Path, tmp_path: Path, monkeypatch) -> None:
    index = tmp_path / "index"
    for var, value in {"HELPDESK_CHROMA_PATH": index, "HELPDESK_CORPUS_DIR": library}.items():
        monkeypatch.setenv(var, str(value))
    out = tmp_path / "out"
    assert main(["bench", "start", "--runs", "1", "--out", str(out)]) == 2  # no index yet: one clear error
    assert main(["ingest", "--if-changed", "--quiet"]) == 0
    from bot.store import forget_open_clients

    forget_open_clients()  # the app opens this folder next
    assert main(["bench", "start", "--runs", "2", "--workers", "2", "--out", str(out)]) == 0
    report = json.loads((out / "start.json").read_text())
    assert report["machine"]["cpu_model"] and len(report["runs"]) == 2
    for run in report["runs"]:
        assert run["workers"] == 2 and 0 < run["app_start_s"] < 300 and run["app_cpu_s"] > 0 and run["probe_s"] > 0
        assert run["index_check_s"] < run["make_run_s"]
    (summary,) = report["summary"]
    assert summary["runs"] == 2 and summary["make_run_min_s"] <= summary["make_run_median_s"]
    assert report["machine"]["cpu_model"] in (out / "start.md").read_text()
