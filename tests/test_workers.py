"""Answering in worker processes (HELPDESK_WORKERS): the real app, real worker processes, real signals.

No mocks: a worker dies by SIGKILL, hangs by SIGSTOP, and the store goes away because its `chroma run` stops.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.components import build_components
from bot.errors import StoreUnavailable
from bot.server import create_app
from bot.settings import Settings
from bot.workers import AnswerPool, AnswerTimeout, PooledAssistant, WorkerLost
from evals.bench_load import serve_in_thread
from tests.conftest import ROOT
from tests.servers import ChromaServer, free_port

pytestmark = pytest.mark.slow

QUESTIONS = {
    "Who is the lead partner of ClusterFY?": "clusterfy-project-summary",
    "How do innovation vouchers help SMEs work with universities?": None,
    "What is smart specialisation?": "s3platform-what-is-smart-specialisation",
    "How is textile waste recycled in Hauts-de-France?": "gp-textile-recycling-valley-hauts-de-france",
    "What does the ITHACA project do for active and healthy ageing?": "errin-ithaca-active-healthy-ageing",
}


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out += [int(p) for p in text]
    return out


def _worker_pids(app_pid: int) -> list[int]:
    """The answering workers: the children of the app's multiprocessing fork server."""
    for child in _children(app_pid):
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        if b"forkserver" in cmdline:
            return sorted(_children(child))
    return []


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def indexed_library(library: Path, real_embedder, tmp_path: Path) -> tuple[Settings, dict[str, dict]]:
    """The test library in an embedded index, and each question's answer from one process (the reference)."""
    settings = Settings(chroma_path=tmp_path / "index", collection="workers")
    comps = build_components(settings, embedder=real_embedder, use_llm=False)
    assert comps.pipeline.run([library], progress=False).failed == 0
    comps.assistant.warm_up()
    expected = {q: comps.assistant.ask(q).to_dict() for q in QUESTIONS}
    for q, doc_id in QUESTIONS.items():
        if doc_id:
            assert expected[q]["citations"][0]["doc_id"] == doc_id
    from bot.store import forget_open_clients

    forget_open_clients()  # the app's own Chroma server reads this folder next
    return settings, expected


@pytest.fixture
def two_worker_app(indexed_library, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen, dict]]:
    """`python app.py` with HELPDESK_WORKERS=2 on the indexed library (its own loopback Chroma server)."""
    settings, expected = indexed_library
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env |= {
        "HELPDESK_WORKERS": "2",
        "HELPDESK_PORT": str(port),
        "HELPDESK_CHROMA_PATH": str(settings.chroma_path),
        "HELPDESK_COLLECTION": settings.collection,
        "HELPDESK_LLM": "offline",
    }
    log = (tmp_path / "app.log").open("wb")
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], env=env, cwd=ROOT, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert proc.poll() is None, (tmp_path / "app.log").read_text()
        try:
            return httpx.get(f"{url}/api/health", timeout=5).json()["workers"] == 2
        except httpx.HTTPError:
            return False

    try:
        _wait(up, 240, "the app with two workers")
        yield url, proc, expected
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
    assert "Traceback" not in (tmp_path / "app.log").read_text()


def _ask_many(url: str, expected: dict, threads: int, rounds: int) -> tuple[list[str], list[dict]]:
    """`threads` users each asking every question `rounds` times; (mismatches, error bodies)."""
    questions = list(expected)
    mismatches: list[str] = []
    errors: list[dict] = []
    lock = threading.Lock()

    def user(n: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            for i in range(rounds * len(questions)):
                q = questions[(n + i) % len(questions)]
                res = client.post("/api/ask", json={"question": q})
                with lock:
                    if res.status_code != 200:
                        errors.append({"status": res.status_code} | res.json())
                        continue
                    got, want = res.json(), expected[q]
                    if (got["question"], got["text"], [c["doc_id"] for c in got["citations"]]) != (
                        want["question"],
                        want["text"],
                        [c["doc_id"] for c in want["citations"]],
                    ):
                        mismatches.append(q)

    pool = [threading.Thread(target=user, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(300)
    return mismatches, errors


def test_two_workers_answer_concurrent_users_each_their_own_answer(two_worker_app) -> None:
    url, proc, expected = two_worker_app
    workers = _worker_pids(proc.pid)
    assert len(workers) == 2
    # the workers inherited the embedding model loaded once in the fork server, and answer exactly as the
    # in-process Assistant does (the expected answers)
    assert httpx.get(f"{url}/api/health", timeout=10).json()["workers_share_models"] is True
    busy_before = {pid: _cpu_ticks(pid) for pid in workers}
    mismatches, errors = _ask_many(url, expected, threads=6, rounds=3)
    assert errors == [] and mismatches == []
    # both processes answered (each spent CPU time on the 90 questions)
    assert all(_cpu_ticks(pid) > busy_before[pid] for pid in workers)


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_a_killed_worker_is_replaced_and_only_its_question_fails(two_worker_app) -> None:
    url, proc, expected = two_worker_app
    victim, survivor = _worker_pids(proc.pid)
    results: dict[str, tuple[list[str], list[dict]]] = {}
    asking = threading.Thread(target=lambda: results.update(run=_ask_many(url, expected, threads=2, rounds=10)))
    asking.start()
    time.sleep(1.0)
    os.kill(victim, signal.SIGKILL)
    asking.join(300)
    mismatches, errors = results["run"]
    assert mismatches == []
    # at most the one question the killed worker was answering fails, with a sentence for people
    assert len(errors) <= 1, errors
    for err in errors:
        assert err["status"] == 503 and "stopped unexpectedly" in err["error"] and "Traceback" not in err["error"]
    # answered (by the survivor or the replacement); a worker killed while idle is replaced when a question finds it
    res = httpx.post(f"{url}/api/ask", json={"question": "Who is the lead partner of ClusterFY?"}, timeout=60)
    assert res.status_code == 200 and res.json()["citations"][0]["doc_id"] == "clusterfy-project-summary"
    _wait(lambda: victim not in _worker_pids(proc.pid), 30, "the killed worker to be reaped")
    _wait(lambda: len(_worker_pids(proc.pid)) == 2, 120, "a replacement worker")
    replacement = set(_worker_pids(proc.pid)) - {survivor}
    assert replacement and victim not in replacement
    health = httpx.get(f"{url}/api/health", timeout=10).json()
    # the replacement, too, was forked with the embedding model already loaded (bot/worker_preload.py)
    assert health["workers"] == 2 and health["workers_share_models"] is True


def test_an_ingest_run_beside_the_app_writes_through_its_chroma_server(
    two_worker_app, indexed_library, library: Path
) -> None:
    """`helpdesk ingest` on the folder the app serves goes through the app's Chroma server, and the app sees it."""
    url, _, _ = two_worker_app
    settings, _ = indexed_library
    (library / "malta-vouchers.md").write_text(
        "---\ntitle: Maltese innovation vouchers\ncountry: Malta\ntopics: [innovation vouchers]\n---\n\n"
        "# Vouchers in Malta\n\nMaltese SMEs redeem innovation vouchers at the University of Malta's "
        "testing laboratories, which invoice the agency directly.\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env |= {"HELPDESK_CHROMA_PATH": str(settings.chroma_path), "HELPDESK_COLLECTION": settings.collection}
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ingest", "--quiet", str(library)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "is served by a running app: using its Chroma server" in run.stderr
    assert "added 1," in run.stdout
    res = httpx.post(f"{url}/api/ask", json={"question": "Where do Maltese SMEs redeem their vouchers?"}, timeout=60)
    assert res.status_code == 200 and res.json()["citations"][0]["doc_id"] == "malta-vouchers"
    assert httpx.get(f"{url}/api/health", timeout=10).json()["documents"] == len(list(library.glob("*.md")))


def test_the_app_and_the_cli_take_one_ingest_lock_per_index_folder(
    library: Path, real_embedder, tmp_path: Path
) -> None:
    """With the app's loopback Chroma server over the folder, its Library tab locks what `helpdesk ingest` locks."""
    from bot.store_server import LoopbackChroma

    index = tmp_path / "index"
    embedded = build_components(Settings(chroma_path=index, collection="one"), embedder=real_embedder)
    chroma = LoopbackChroma(index).start()
    try:
        served = Settings(chroma_path=index, collection="one", chroma_host="127.0.0.1", chroma_port=chroma.port)
        in_app = build_components(served, embedder=real_embedder)
        assert in_app.pipeline.lock_path == embedded.pipeline.lock_path == index / ".ingest-one.lock"
    finally:
        chroma.stop()
    assert not (index / "chroma-server.json").exists()


@pytest.fixture
def server_pool(library: Path, real_embedder, tmp_path: Path) -> Iterator[tuple[ChromaServer, AnswerPool, str]]:
    """Two workers over a `chroma run` server holding the library, behind the JSON API served in this process."""
    chroma = ChromaServer(tmp_path / "chroma").start()
    settings = Settings(
        chroma_host="127.0.0.1", chroma_port=chroma.port, chroma_path=tmp_path / "locks", collection="pool"
    )
    comps = build_components(settings, embedder=real_embedder, use_llm=False)
    assert comps.pipeline.run([library], progress=False).failed == 0
    pool = AnswerPool(settings, 2, answer_timeout=20).start().wait_ready()
    local = comps.assistant
    comps = dataclasses.replace(comps, assistant=PooledAssistant(lambda: local, pool))
    port = free_port()
    server = serve_in_thread(create_app(comps, with_ui=False), port)
    try:
        yield chroma, pool, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        pool.close()
        chroma.stop()


def test_the_question_in_flight_on_a_killed_worker_gets_a_clear_error(server_pool) -> None:
    _, pool, _ = server_pool
    stopped = pool.pids()
    for pid in stopped:  # SIGSTOP: whichever worker takes the question holds it, in flight
        os.kill(pid, signal.SIGSTOP)
    outcome: list[BaseException] = []

    def ask() -> None:
        try:
            pool.ask("What is smart specialisation?")
        except BaseException as exc:
            outcome.append(exc)

    asking = threading.Thread(target=ask)
    asking.start()
    time.sleep(1.0)
    for pid in stopped:
        os.kill(pid, signal.SIGKILL)
    asking.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], WorkerLost)
    assert "stopped unexpectedly" in str(outcome[0])
    # the idle worker was killed too: wait until its death is visible (a 1.5 GB process takes a moment to exit
    # under load; a question handed to it meanwhile would be lost like an in-flight one)
    _wait(lambda: not set(pool.pids()) & set(stopped), 60, "the killed workers to be gone")
    answer = pool.ask("Who is the lead partner of ClusterFY?")  # waits for a replacement
    assert answer.citations[0].doc_id == "clusterfy-project-summary"
    _wait(lambda: len(pool.pids()) == 2 and not set(pool.pids()) & set(stopped), 120, "two new workers")


def test_a_stuck_worker_times_out_and_is_replaced(server_pool) -> None:
    _, pool, url = server_pool
    pool.answer_timeout = 3
    for pid in pool.pids():
        os.kill(pid, signal.SIGSTOP)
    res = httpx.post(f"{url}/api/ask", json={"question": "What is smart specialisation?"}, timeout=60)
    assert res.status_code == 503 and "took longer than 3 s" in res.json()["error"]
    with pytest.raises(AnswerTimeout):
        pool.ask("What is smart specialisation?")
    pool.answer_timeout = 60
    res = httpx.post(f"{url}/api/ask", json={"question": "What is smart specialisation?"}, timeout=120)
    assert res.status_code == 200 and res.json()["citations"][0]["doc_id"] == "s3platform-what-is-smart-specialisation"


def test_an_unreachable_store_is_a_sentence_and_answers_resume(server_pool) -> None:
    chroma, pool, url = server_pool
    chroma.stop()
    res = httpx.post(f"{url}/api/ask", json={"question": "What is smart specialisation?"}, timeout=120)
    assert res.status_code == 503 and "Traceback" not in res.text
    assert "chroma" in res.json()["error"].lower() or "store" in res.json()["error"].lower()
    with pytest.raises(StoreUnavailable):
        pool.ask("What is smart specialisation?")
    chroma.start()
    deadline = time.monotonic() + 60
    while True:
        res = httpx.post(f"{url}/api/ask", json={"question": "What is smart specialisation?"}, timeout=120)
        if res.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert res.status_code == 200, res.text
    assert len(pool.pids()) == 2  # the workers lived through it


def test_the_served_page_fills_its_filters_and_library_from_the_index(two_worker_app, browser) -> None:
    """The page is built before the server's own components load (bot/deferred.py); its load event fills it."""
    url, _, _ = two_worker_app
    documents = httpx.get(f"{url}/api/health", timeout=30).json()["documents"]
    page = browser.new_page()
    try:
        page.goto(url)
        page.locator("#f-country input").click()
        page.locator('[role="option"]').first.wait_for(timeout=30_000)
        assert page.locator('[role="option"]').count() >= 2
        page.get_by_role("tab", name="Library").click()
        stats = "(document.querySelector('#lib-stats')?.innerText || '')"
        page.wait_for_function(f"() => {stats}.trim().startsWith('{documents} documents')", timeout=30_000)
    finally:
        page.close()


def test_an_index_of_another_embedding_model_stops_the_app_with_one_line(indexed_library, tmp_path: Path) -> None:
    """The server's own components load behind the page: a store they cannot open still stops the app, named."""
    settings, _ = indexed_library
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env |= {
        "HELPDESK_WORKERS": "2",
        "HELPDESK_PORT": str(free_port()),
        "HELPDESK_CHROMA_PATH": str(settings.chroma_path),
        "HELPDESK_COLLECTION": settings.collection,
        "HELPDESK_EMBED_MODEL": "minilm-int8",
        "HELPDESK_LLM": "offline",
    }
    res = subprocess.run(
        [sys.executable, str(ROOT / "app.py")], env=env, cwd=ROOT, capture_output=True, text=True, timeout=240
    )
    assert res.returncode == 2, res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("error: ") and "minilm-int8" in lines[-1] and "use-multilingual" in lines[-1]
    assert "Traceback" not in res.stderr
