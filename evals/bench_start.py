"""`helpdesk bench start`: `make run` on an existing index, from launch to the first cited answer, several times.

Each run does what `make run` does once its venv exists: `helpdesk ingest --if-changed` (the index step), then
`python app.py`, timed until the page is served and the JSON API gives an answer with citations. The app's CPU
time over all its processes (server, Chroma server, fork server, workers) is read at that moment: unlike wall
time, a busy machine barely changes it. Starts on these machines spread widely (the same start took 9 s and
15 s in different quarter-hours), so every run also times a fixed pure-Python loop (`speed_probe`) just before
it: a start that is slow together with its probe was a slow machine, not a slow app.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bot.errors import HelpdeskError
from bot.settings import load_settings
from evals.bench_common import load_1m, machine_info
from evals.bench_load import ROOT, start_app, tree_cpu_s

PROBE_LOOPS = 3_000_000


def speed_probe() -> float:
    """CPU seconds of a fixed pure-Python loop in this process: the machine's speed at this moment."""
    start = time.process_time()
    total = 0
    for i in range(PROBE_LOOPS):
        total += i
    return round(time.process_time() - start, 3)


def index_check(store_env: dict[str, str]) -> float:
    """Seconds of `helpdesk ingest --if-changed --quiet` (make run's index step) over the index in `store_env`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "OPENAI_"))} | store_env
    helpdesk = Path(sys.executable).parent / "helpdesk"
    start = time.monotonic()
    res = subprocess.run(
        [str(helpdesk), "ingest", "--if-changed", "--quiet"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if res.returncode != 0:
        raise HelpdeskError(f"the index step failed: {(res.stderr or res.stdout).strip()[-300:]}")
    return time.monotonic() - start


def one_start(store_env: dict[str, str], workers: int, workdir: Path) -> dict[str, Any]:
    """One `make run` start: probe, index step, app to first answer; the app is stopped afterwards."""
    probe, load = speed_probe(), load_1m()
    check_s = index_check(store_env)
    with ExitStack() as stack:
        _, start_s, pid = start_app(store_env, workers, workdir, stack)
        cpu_s = tree_cpu_s(pid)
    return {
        "workers": workers,
        "index_check_s": round(check_s, 2),
        "app_start_s": round(start_s, 2),
        "make_run_s": round(check_s + start_s, 2),
        "app_cpu_s": round(cpu_s, 1),
        "probe_s": probe,
        "load_1m": load,
    }


def cmd_bench_start(args: argparse.Namespace) -> int:
    """Start the app `--runs` times per worker count (alternating) and write start.json / start.md."""
    settings = load_settings()
    index = Path(args.index) if args.index else settings.chroma_path
    if not (index / "chroma.sqlite3").is_file():
        raise HelpdeskError(f"{index} holds no index: run `make index` (or `helpdesk ingest`) first")
    store_env = {
        "HELPDESK_CHROMA_PATH": str(index),
        "HELPDESK_COLLECTION": settings.collection,
        "HELPDESK_CORPUS_DIR": str(settings.corpus_dir),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    counts = [int(w) for w in args.workers.split(",")]
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-start-") as tmp:
        for n in range(args.runs):
            for workers in counts:
                run = one_start(store_env, workers, Path(tmp))
                runs.append(run)
                print(
                    f"bench start {n + 1}/{args.runs}, {workers} worker(s): make run → first answer "
                    f"{run['make_run_s']} s (index step {run['index_check_s']} s, app {run['app_start_s']} s, "
                    f"CPU {run['app_cpu_s']} s; probe {run['probe_s']} s)",
                    flush=True,
                )
    report = {"machine": machine_info(), "index": str(index), "runs": runs, "summary": summarize(runs)}
    (out / "start.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    text = markdown_report(report)
    (out / "start.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


def summarize(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per worker count: median and range of the make-run time, medians of the app's part, its CPU and the probe."""
    rows = []
    for workers in dict.fromkeys(r["workers"] for r in runs):
        mine = [r for r in runs if r["workers"] == workers]
        total = [r["make_run_s"] for r in mine]
        rows.append(
            {
                "workers": workers,
                "runs": len(mine),
                "make_run_median_s": round(statistics.median(total), 2),
                "make_run_min_s": min(total),
                "make_run_max_s": max(total),
                "app_start_median_s": round(statistics.median(r["app_start_s"] for r in mine), 2),
                "app_cpu_median_s": round(statistics.median(r["app_cpu_s"] for r in mine), 1),
                "probe_median_s": round(statistics.median(r["probe_s"] for r in mine), 3),
            }
        )
    return rows


def markdown_report(report: dict[str, Any]) -> str:
    """start.md: the machine, one line per worker count, then every run."""
    m = report["machine"]
    lines = [
        f"Machine: {m['cpu_count']} × {m['cpu_model']}, {m['ram_gb']} GB RAM, Python {m['python']}",
        f"Index: {report['index']}",
        "",
        "| workers | runs | make run → first answer: median (min–max) s | app part median s | app CPU s | probe s |",
        "|---:|---:|---|---:|---:|---:|",
    ]
    for s in report["summary"]:
        lines.append(
            f"| {s['workers']} | {s['runs']} | {s['make_run_median_s']} ({s['make_run_min_s']}–{s['make_run_max_s']}) "
            f"| {s['app_start_median_s']} | {s['app_cpu_median_s']} | {s['probe_median_s']} |"
        )
    lines += ["", "| run | workers | index step s | app s | make run s | app CPU s | probe s | load 1m |"]
    lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for i, r in enumerate(report["runs"], 1):
        lines.append(
            f"| {i} | {r['workers']} | {r['index_check_s']} | {r['app_start_s']} | {r['make_run_s']} | "
            f"{r['app_cpu_s']} | {r['probe_s']} | {r['load_1m']} |"
        )
    return "\n".join(lines) + "\n"


def add_start_parser(bench_sub: argparse._SubParsersAction) -> None:
    """Register `helpdesk bench start`."""
    p = bench_sub.add_parser("start", help="make run on an existing index: seconds to the first cited answer")
    p.add_argument("--runs", type=int, default=5, help="starts per worker count (alternating)")
    p.add_argument("--workers", default="2", help="comma-separated HELPDESK_WORKERS values")
    p.add_argument("--index", help="an existing index folder (default: HELPDESK_CHROMA_PATH, what make run serves)")
    p.add_argument("--out", required=True, help="folder for start.json and start.md")
    p.set_defaults(func=cmd_bench_start)
