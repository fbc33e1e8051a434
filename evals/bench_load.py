"""`helpdesk bench load`: concurrent simulated users against the running app's JSON API, loopback only.

Each user is a thread with its own HTTP client asking dev-set questions for a fixed time. An error is
any non-200 reply or transport failure; cross-talk is a reply whose `question` is not the one that user
sent. Bounded: at most 64 users and 600 s per step, and only 127.0.0.0/8, localhost or ::1 targets.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
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
from bot.settings import Settings
from evals.bench import machine_info
from evals.bench_query import DEFAULT_QUESTIONS
from evals.dataset import load_questions

MAX_USERS = 64
MAX_SECONDS = 600


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


def start_local_app(stack: ExitStack, store: str, corpus: Path, workdir: Path) -> str:
    """Index the corpus (embedded, or into a `chroma run` server) and serve the app; returns its URL."""
    import subprocess
    import sys

    from bot.components import build_components
    from bot.server import create_app

    if store == "server":
        port = _free_port()
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "chroma"),
                "run",
                "--path",
                str(workdir / "chroma"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.callback(lambda: (proc.terminate(), proc.wait(10)))
        settings = Settings(chroma_host="127.0.0.1", chroma_port=port, chroma_path=workdir, collection="load")
        deadline = time.monotonic() + 30
        while True:
            try:
                comps = build_components(settings, use_llm=False)
                break
            except HelpdeskError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
    else:
        settings = Settings(chroma_path=workdir / "index", collection="load")
        comps = build_components(settings, use_llm=False)
    comps.pipeline.run([corpus], progress=False)
    comps.assistant.warm_up()
    port = _free_port()
    server = serve_in_thread(create_app(comps, with_ui=False), port)
    stack.callback(lambda: setattr(server, "should_exit", True))
    return f"http://127.0.0.1:{port}"


def cmd_bench_load(args: argparse.Namespace) -> int:
    """Run the load steps and write load.json / load.md."""
    from evals.bench import parse_scales

    questions = [q.question for q in load_questions(Path(args.questions)) if not q.history]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stores = ["embedded", "server"] if args.store == "both" else [args.store]
    results = []
    for store in stores if not args.url else ["external"]:
        with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
            url = args.url or start_local_app(stack, store, Path(args.corpus or Settings().corpus_dir), Path(tmp))
            check_loopback(url)
            for users in parse_scales(args.users):
                step = run_users(url, users, args.seconds, questions)
                results.append({"store": store} | step)
    report = {"machine": machine_info(), "seconds_per_step": args.seconds, "steps": results}
    (out / "load.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    lines = [
        "| store | users | requests | rps | p50 ms | p95 ms | p99 ms | errors | cross-talk |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['store']} | {r['users']} | {r['requests']} | {r['rps']} | {r['p50_ms']} | {r['p95_ms']} | "
            f"{r['p99_ms']} | {r['errors']} | {r['cross_talk']} |"
        )
    text = "\n".join(lines) + "\n"
    (out / "load.md").write_text(text, encoding="utf-8")
    print(text)
    return 1 if any(r["errors"] or r["cross_talk"] for r in results) else 0


def add_load_parser(bench_sub: argparse._SubParsersAction) -> None:
    """Register `helpdesk bench load`."""
    p = bench_sub.add_parser("load", help="concurrent users against the app's API (loopback only)")
    p.add_argument("--users", default="1,4,16,32", help="comma-separated user counts (max 64)")
    p.add_argument("--seconds", type=float, default=30.0, help="seconds per step (max 600)")
    p.add_argument("--url", help="a running app on this machine (default: start one on a free port)")
    p.add_argument("--store", choices=["embedded", "server", "both"], default="both", help="Chroma mode")
    p.add_argument("--corpus", help="folder to index (default: HELPDESK_CORPUS_DIR)")
    p.add_argument("--questions", default=str(DEFAULT_QUESTIONS), help="JSONL question file")
    p.add_argument("--out", required=True, help="folder for load.json and load.md")
    p.set_defaults(func=cmd_bench_load)
