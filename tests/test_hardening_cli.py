"""Settings errors, cut pipes and a busy port end with one clear line, never a traceback (issue 11)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

HELPDESK = Path(sys.executable).parent / "helpdesk"


def run(args: list[str], env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=120, **kwargs
    )


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_a_bad_setting_is_one_line_in_the_cli_and_the_app() -> None:
    for command in ([str(HELPDESK), "status"], [sys.executable, str(ROOT / "app.py")]):
        res = run(command, env={"HELPDESK_MAX_FILE_MB": "abc", "HELPDESK_PORT": "99999"})
        assert res.returncode == 2
        line = one_error_line(res.stderr)
        assert "HELPDESK_MAX_FILE_MB='abc'" in line and "HELPDESK_PORT='99999'" in line


def test_status_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head` that has already gone
    try:
        res = subprocess.run(
            [str(HELPDESK), "status", "--json"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            env={**os.environ, "HELPDESK_CHROMA_PATH": str(tmp_path / "index")},
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in res.stderr and "BrokenPipe" not in res.stderr, res.stderr
    assert res.returncode == 141


def test_a_busy_port_fails_at_once_without_the_banner() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = run([sys.executable, str(ROOT / "app.py")], env={"HELPDESK_PORT": str(port)})
    assert res.returncode == 2
    assert "Policy Helpdesk Assistant on" not in res.stdout
    line = one_error_line(res.stderr)
    assert f"cannot listen on 127.0.0.1:{port}" in line and "HELPDESK_PORT" in line
