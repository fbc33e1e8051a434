"""`helpdesk bench load`: concurrent simulated users against the app's JSON API, loopback only.

The app is started as `make run` would (`python app.py`, UI included, offline answers) on an index built once,
for each HELPDESK_WORKERS value given (`--workers 1,2`), so the figures sit side by side; the time from launching
it to its first answer is reported too. Each user is a thread with its own HTTP client asking dev-set questions
for a fixed time. An error is any non-200 reply or transport failure; cross-talk is a reply whose `question` is
not the one that user sent. Bounded: at most 64 users and 600 s per step, and only 127.0.0.0/8, localhost or
::1 targets. Just over 300 lines: the users, the app's start-up per worker count and the side-by-side table are
one measurement, read together.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import numpy as np

from bot.assistant import clean_question
from bot.errors import HelpdeskError
from bot.settings import Settings, load_settings
from evals.bench_common import DEFAULT_QUESTIONS, load_1m, machine_info, parse_scales
from evals.dataset import load_questions

MAX_USERS = 64
MAX_SECONDS = 600
START_LIMIT = 300  # seconds for the app to give its first answer
WARM_QUESTION = "What are innovation vouchers?"
ROOT = Path(__file__).resolve().parents[1]


def check_loopback(url: str) -> None:
    """Refuse any target that is not this machine."""
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise HelpdeskError(f"load tests only target this machine (127.0.0.1, localhost, ::1), not '{host}'")


def run_users(url: str, users: int, seconds: float, questions: list[str]) -> dict[str, Any]:
    """`users` threads asking for `seconds`; latency percentiles, throughput, errors, cross-talk."""
    check_loopback(url)
    users = min(users, MAX_USERS)
    seconds = min(seconds, MAX_SECONDS)
    latencies: list[float] = []
    errors: list[str] = []
    cross_talk = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def user(index: int) -> None:
        nonlocal cross_talk
        with httpx.Client(base_url=url, timeout=60.0) as client:
            i = index
            while time.monotonic() < deadline:
                question = questions[i % len(questions)]
                i += users
                t0 = time.perf_counter()
                try:
                    res = client.post("/api/ask", json={"question": question})
                    ms = (time.perf_counter() - t0) * 1000
                    ok = res.status_code == 200
                    body = res.json() if ok else {}
                    mixed = ok and body.get("question") != clean_question(question, 10**9)
                except (httpx.HTTPError, ValueError) as exc:
                    ms, ok, mixed = (time.perf_counter() - t0) * 1000, False, False
                    res = exc  # type: ignore[assignment]
                with lock:
                    latencies.append(ms)
                    if not ok:
                        errors.append(str(getattr(res, "status_code", res))[:200])
                    cross_talk += int(mixed)

    start = time.monotonic()
    threads = [threading.Thread(target=user, args=(u,), daemon=True) for u in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    elapsed = time.monotonic() - start
    arr = np.asarray(latencies or [0.0])
    return {
        "users": users,
        "seconds": round(elapsed, 1),
        "requests": len(latencies),
        "rps": round(len(latencies) / elapsed, 2) if elapsed else 0.0,
        "p50_ms": round(float(np.percentile(arr, 50)), 1),
        "p95_ms": round(float(np.percentile(arr, 95)), 1),
        "p99_ms": round(float(np.percentile(arr, 99)), 1),
        "errors": len(errors),
        "error_samples": errors[:5],
        "cross_talk": cross_talk,
    }


def serve_in_thread(app: Any, port: int) -> Any:
    """Start uvicorn for `app` on 127.0.0.1:port in a daemon thread; returns the server (call .should_exit)."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", workers=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise HelpdeskError(f"the app did not start on 127.0.0.1:{port}")
    return server


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_index(corpus: Path, workdir: Path, store: str, stack: ExitStack) -> dict[str, str]:
    """Index `corpus` once (embedded, or into a `chroma run` server started here); the app's store variables."""
    from bot.components import build_components
    from bot.store_server import LoopbackChroma

    index = workdir / "index"
    env = {"HELPDESK_CHROMA_PATH": str(index), "HELPDESK_COLLECTION": "load"}
    settings = Settings(chroma_path=index, collection="load")
    if store == "server":
        chroma = LoopbackChroma(workdir / "chroma", log_path=workdir / "chroma.log").start()
        stack.callback(chroma.stop)
        settings = settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": chroma.port})
        env |= {"HELPDESK_CHROMA_HOST": "127.0.0.1", "HELPDESK_CHROMA_PORT": str(chroma.port)}
    summary = build_components(settings, use_llm=False).pipeline.run([corpus], progress=False)
    if summary.failed or not summary.chunks:
        raise HelpdeskError(f"indexing {corpus} for the load test failed: {summary.line()}")
    return env


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by process `pid` and all its live descendants (Linux /proc)."""
    total, todo = 0.0, [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue  # ended meanwhile
    return total


def start_app(store_env: dict[str, str], workers: int, workdir: Path, stack: ExitStack) -> tuple[str, float, int]:
    """Start `python app.py` (UI and API, offline answers) with `workers`: its URL, seconds until it answered, pid.

    The start time runs from launching the process to the first answer to a question: what a user waits for
    after `make run` on an existing index.
    """
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "OPENAI_"))}
    env |= store_env | {
        "HELPDESK_WORKERS": str(workers),
        "HELPDESK_PORT": str(port),
        "HELPDESK_HOST": "127.0.0.1",
        "HELPDESK_LLM": "offline",
    }
    log = (workdir / f"app-{workers}-workers.log").open("ab")
    stack.callback(log.close)
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], env=env, cwd=ROOT, stdout=log, stderr=log)

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    stack.callback(stop)
    url = f"http://127.0.0.1:{port}"
    deadline = t0 + START_LIMIT
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.post(f"{url}/api/ask", json={"question": WARM_QUESTION}, timeout=60).status_code == 200:
                return url, time.monotonic() - t0, proc.pid
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise HelpdeskError(f"the app with {workers} workers did not answer within {START_LIMIT} s (see {log.name})")


def cmd_bench_load(args: argparse.Namespace) -> int:
    """Run the load steps for every store and worker count, and write load.json / load.md."""
    questions = [q.question for q in load_questions(Path(args.questions)) if not q.history]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    worker_counts = parse_scales(args.workers)
    stores = ["app", "server"] if args.store == "both" else [args.store]
    results, starts = [], []
    if args.url:
        check_loopback(args.url)
        for users in parse_scales(args.users):
            step = _step(args.url, users, args.seconds, questions, None)
            results.append({"store": "external", "workers": None} | step)
    for store in [] if args.url else stores:
        with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
            store_env = build_index(Path(args.corpus or load_settings().corpus_dir), Path(tmp), store, stack)
            for workers in worker_counts:
                with ExitStack() as app_stack:
                    load_before = load_1m()
                    url, start_s, pid = start_app(store_env, workers, Path(tmp), app_stack)
                    starts.append(
                        {"store": store, "workers": workers, "start_s": round(start_s, 1), "load_1m": load_before}
                    )
                    print(
                        f"bench load: {store} store, {workers} worker(s): answering {start_s:.1f} s after start",
                        flush=True,
                    )
                    for users in parse_scales(args.users):
                        step = _step(url, users, args.seconds, questions, pid)
                        results.append({"store": store, "workers": workers} | step)
    report = {
        "machine": machine_info(),
        "seconds_per_step": args.seconds,
        "app_start": starts,
        "steps": results,
    }
    (out / "load.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    text = markdown_report(report)
    (out / "load.md").write_text(text, encoding="utf-8")
    print(text)
    return 1 if any(r["errors"] or r["cross_talk"] for r in results) else 0


def _step(url: str, users: int, seconds: float, questions: list[str], pid: int | None) -> dict[str, Any]:
    """One load step, the machine's load average before and after it, and the app's CPU ms per answer.

    The app's CPU counts every process of it (server, answering workers, its Chroma server): unlike wall time,
    a busy neighbour on the machine barely changes it.
    """
    before, cpu0 = load_1m(), tree_cpu_s(pid) if pid else 0.0
    step = run_users(url, users, seconds, questions)
    cpu = (tree_cpu_s(pid) - cpu0) * 1000 / step["requests"] if pid and step["requests"] else None
    return step | {"load_1m": [before, load_1m()], "app_cpu_ms_per_answer": round(cpu, 1) if cpu else None}


def markdown_report(report: dict[str, Any]) -> str:
    """load.md: the machine, the app's start times, every step, and answers/s per worker count side by side."""
    m = report["machine"]
    lines = [f"Machine: {m['cpu_count']} × {m['cpu_model']}, {m['ram_gb']} GB RAM, Python {m['python']}", ""]
    for s in report["app_start"]:
        lines.append(
            f"- app start ({s['store']} store, {s['workers']} worker(s), existing index): first answer after "
            f"{s['start_s']} s (load {s['load_1m']})"
        )
    lines += [
        "",
        "| store | workers | users | requests | answers/s | p50 ms | p95 ms | p99 ms | errors | cross-talk "
        "| app CPU ms per answer | load 1m |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in report["steps"]:
        load = "→".join(f"{v:.1f}" for v in r["load_1m"])
        lines.append(
            f"| {r['store']} | {r['workers'] or '?'} | {r['users']} | {r['requests']} | {r['rps']} | {r['p50_ms']} | "
            f"{r['p95_ms']} | {r['p99_ms']} | {r['errors']} | {r['cross_talk']} | "
            f"{r['app_cpu_ms_per_answer'] or '–'} | {load} |"
        )
    counts = sorted({r["workers"] for r in report["steps"] if r["workers"]})
    if len(counts) > 1:
        by = {(r["store"], r["users"], r["workers"]): r for r in report["steps"]}
        head = " | ".join(f"{w} worker(s): answers/s, p95 ms" for w in counts)
        lines += ["", f"| store | users | {head} |", "|---|---:|" + "---|" * len(counts)]
        for store, users in dict.fromkeys((r["store"], r["users"]) for r in report["steps"]):
            cells = []
            for w in counts:
                r = by.get((store, users, w))
                cells.append(f"{r['rps']}, {r['p95_ms']}" if r else "–")
            lines.append(f"| {store} | {users} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def add_load_parser(bench_sub: argparse._SubParsersAction) -> None:
    """Register `helpdesk bench load`."""
    p = bench_sub.add_parser(
        "load", help="concurrent users against the app's API with 1 and more answering workers (loopback only)"
    )
    p.add_argument("--users", default="1,4,16,32", help="comma-separated user counts (max 64)")
    p.add_argument("--seconds", type=float, default=30.0, help="seconds per step (max 600)")
    p.add_argument("--workers", default="1,2", help="comma-separated HELPDESK_WORKERS values, one app run each")
    p.add_argument("--url", help="a running app on this machine instead (--workers and --store do not apply)")
    p.add_argument(
        "--store",
        choices=["app", "server", "both"],
        default="app",
        help="app: the app's own choice (embedded for 1 worker, its loopback Chroma server for more); "
        "server: a `chroma run` started by the bench",
    )
    p.add_argument("--corpus", help="folder to index (default: HELPDESK_CORPUS_DIR)")
    p.add_argument("--questions", default=str(DEFAULT_QUESTIONS), help="JSONL question file")
    p.add_argument("--out", required=True, help="folder for load.json and load.md")
    p.set_defaults(func=cmd_bench_load)
