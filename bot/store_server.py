"""`chroma run` on loopback over the app's own index folder, for when several processes must read it.

Chroma's embedded client keeps its own in-memory vector index per process, so processes that share an index
while the Library tab writes to it must go through one Chroma server. `serve` starts this one when it runs
answering workers and no HELPDESK_CHROMA_HOST is set; it stops with the app (and with it if the app is killed).

While it runs, `<index>/chroma-server.json` names its port, so that another process on this machine that opens
the same folder (`helpdesk ingest` while `make run` serves) writes through it (`through_running_server`) instead
of opening the folder a second time behind the server's back.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bot.errors import StoreUnavailable
from bot.settings import Settings

SERVER_FILE = "chroma-server.json"

# what chromadb's `chroma` console script does (chromadb/cli/cli.py: `chromadb_rust_bindings.cli(sys.argv)`)
_RUN_SERVER = """
import sys, chromadb_rust_bindings
try:
    chromadb_rust_bindings.cli(sys.argv[1:])
except KeyboardInterrupt:
    pass
"""

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the Chroma server gets SIGTERM when the app's process ends, however it ends."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LoopbackChroma:
    """A `chroma run --path <index>` child process on a free 127.0.0.1 port."""

    def __init__(self, path: Path, log_path: Path | None = None) -> None:
        self.path = path
        self.port = _free_port()
        self.log_path = log_path or path / "chroma-server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> LoopbackChroma:
        """Start the server and wait until it accepts connections; StoreUnavailable (with its log) if not."""
        return self.launch().wait_ready(timeout)

    def launch(self) -> LoopbackChroma:
        """Start the server process and return at once (its port is known already: see `wait_ready`)."""
        self.path.mkdir(parents=True, exist_ok=True)
        args = ["chroma", "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)]
        # the Rust server the `chroma` script runs, started without that script's imports (chromadb's Python
        # client and requests: 1.3 s of CPU at every app start, against 0.1 s); warnings only in its log, not a
        # line per HTTP request (the log grew by 1 MB in a morning of answering)
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _RUN_SERVER, *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        return self

    def wait_ready(self, timeout: float = 30.0) -> LoopbackChroma:
        """Wait until the launched server accepts connections (callable from several threads, and again)."""
        if self.process is None:
            raise StoreUnavailable(f"the Chroma server for {self.path} was never started")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                self._announce()
                return self
            time.sleep(0.05)
        self.stop()
        raise StoreUnavailable(
            f"the Chroma server for {self.path} did not start (see {self.log_path}); "
            "set HELPDESK_WORKERS=1 to serve from the embedded store"
        )

    def _announce(self) -> None:
        """Write <index>/chroma-server.json (atomically): this server now serves the folder."""
        assert self.process is not None
        tmp = self.path / f".{SERVER_FILE}.{os.getpid()}"
        tmp.write_text(json.dumps({"port": self.port, "pid": self.process.pid}), encoding="utf-8")
        tmp.replace(self.path / SERVER_FILE)

    def stop(self) -> None:
        """Stop the server politely, then firmly."""
        if self.process is not None and running_server(self.path) == self.port:
            (self.path / SERVER_FILE).unlink(missing_ok=True)
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


def running_server(path: Path) -> int | None:
    """The port of the loopback Chroma server an app runs over the index folder `path`, if one answers."""
    try:
        info = json.loads((path / SERVER_FILE).read_text(encoding="utf-8"))
        port, pid = int(info["port"]), int(info["pid"])
        os.kill(pid, 0)  # a file left by a server that died (the app was SIGKILLed) names no live process
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return port
    except (OSError, ValueError, KeyError, TypeError):
        return None


def through_running_server(settings: Settings) -> Settings:
    """`settings` for an embedded index that an app serves right now: its loopback Chroma server instead.

    Two processes must not open one Chroma folder at once (each keeps its own vector index in memory and writes
    its own files), so `helpdesk ingest` run beside `make run` goes through the app's server.
    """
    if settings.server_mode:
        return settings
    port = running_server(settings.chroma_path)
    if port is None:
        return settings
    print(f"{settings.chroma_path} is served by a running app: using its Chroma server (port {port})", file=sys.stderr)
    return settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": port})


def serves_own_folder(settings: Settings) -> bool:
    """The index folder is local to this machine: embedded, or behind the loopback server of an app over it."""
    return not settings.server_mode or running_server(settings.chroma_path) == settings.chroma_port


def ingest_lock_path(settings: Settings) -> Path:
    """The one ingest lock of an index (per folder and collection), whichever process writes to it.

    `settings` as `through_running_server` left them: a folder served by a running app is still this machine's.
    """
    lock_dir = settings.chroma_path if serves_own_folder(settings) else settings.chroma_path / "server-locks"
    return lock_dir / f".ingest-{settings.collection}.lock"
