"""llama.cpp's OpenAI-compatible server on loopback, started and stopped by the process that needs it.

`HELPDESK_LLM=local` answers through the same `openai` client as any remote endpoint; this module only
owns the server's life: a free 127.0.0.1 port, the installed GGUF, a thread count that stays stable on a
shared machine (OMP_WAIT_POLICY=PASSIVE: idle threads sleep instead of spinning against a neighbour),
a log file, readiness by polling /v1/models, and a stop at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bot.errors import LLMUnavailable

log = logging.getLogger(__name__)
MODEL_ALIAS = "local"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: ask Linux to stop the server when the app dies, even by SIGKILL (no orphan keeps 2 GB)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class LocalLLMServer:
    """One `python -m llama_cpp.server` child serving one GGUF on 127.0.0.1."""

    def __init__(
        self, model: Path, threads: int = 2, context: int = 4096, log_dir: Path | None = None, chat_format: str = ""
    ) -> None:
        self.model = model
        self.threads = threads
        self.context = context
        self.chat_format = chat_format
        self.log_path = (log_dir or Path(".")) / "llama-server.log"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (valid once started)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 120.0) -> LocalLLMServer:
        """Start the server and wait until it lists its model; LLMUnavailable (with the log's tail) if not."""
        if not self.model.is_file():
            raise LLMUnavailable(f"the local model is not installed ({self.model}): run `make models`")
        try:
            import llama_cpp  # noqa: F401
        except ImportError as exc:
            raise LLMUnavailable("llama-cpp-python is not installed: run `make llm-server-deps`") from exc
        self.port = _free_port()
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--model_alias", MODEL_ALIAS]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.context)]
        cmd += ["--n_threads", str(self.threads), "--n_threads_batch", str(self.threads)]
        if self.chat_format:
            cmd += ["--chat_format", self.chat_format]
        env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent
            )
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise LLMUnavailable(f"the local model server exited ({self.proc.returncode}): {self._log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/models", timeout=2).status_code == 200:
                    log.info("local model server ready on %s (%s)", self.base_url, self.model.name)
                    return self
            time.sleep(0.25)
        self.stop()
        raise LLMUnavailable(f"the local model server did not start within {timeout:.0f} s: {self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(lines[-3:])[-400:]

    def stop(self) -> None:
        """Stop politely, then firmly."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def __enter__(self) -> LocalLLMServer:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
