"""The llama.cpp wheel: a portable recipe, a cache keyed by everything that shapes the binary, a smoke check."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "deploy" / "llama_wheel.py"
_spec = importlib.util.spec_from_file_location("llama_wheel", SCRIPT)
assert _spec and _spec.loader
lw = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lw)

WHEEL_NAME = "llama_cpp_python-0.3.36-cp311-cp311-linux_x86_64.whl"


def _leave_wheel(folder: Path, key: str | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / WHEEL_NAME
    wheel.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    if key is not None:
        (folder / "recipe.json").write_text(json.dumps({"key": key}))
    return wheel


def _dry_run(cache: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "build", "--dry-run", "--cache", str(cache), *extra],
        capture_output=True,
        text=True,
        check=True,
    )


def test_portable_recipe_names_its_instruction_sets_and_turns_native_and_amx_off() -> None:
    args = lw.cmake_args(lw.DEFAULT_RECIPE)
    for flag in ("-DGGML_NATIVE=OFF", "-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF"):
        assert flag in args
    assert "-DGGML_AVX2=ON" in args and "-DGGML_AVX512=OFF" in args
    assert all("native" not in a.lower() or a.endswith("=OFF") for a in args)


def test_cache_key_changes_with_version_recipe_and_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    key = lw.cache_key("0.3.36", "x86-64-v3")
    assert key.startswith("llama-cpp-python-0.3.36-x86-64-v3-")
    assert lw.cache_key("0.3.36", "x86-64-v3") == key  # stable
    assert lw.cache_key("0.3.35", "x86-64-v3") != key
    assert lw.cache_key("0.3.36", "x86-64") != key
    flags, needs = lw.RECIPES["x86-64-v3"]
    monkeypatch.setitem(lw.RECIPES, "x86-64-v3", ([*flags, "-DGGML_AMX_INT8=ON"], needs))
    assert lw.cache_key("0.3.36", "x86-64-v3") != key, "a recipe edited in place must not reuse its old wheel"


def test_a_wheel_left_by_another_recipe_is_not_used(tmp_path: Path) -> None:
    cache = tmp_path / "wheels"
    key = lw.cache_key(lw.VERSION, lw.DEFAULT_RECIPE)
    _leave_wheel(cache, None)  # the old layout: a natively built wheel straight in .cache/wheels
    other = lw.cache_key(lw.VERSION, "x86-64")
    _leave_wheel(cache / other, other)  # another recipe's folder
    _leave_wheel(cache / key.replace("x86-64-v3", "native"), key)  # a renamed folder
    assert lw.find_wheel(cache, key) is None
    out = _dry_run(cache)
    assert "compiling llama-cpp-python" in out.stderr and out.stdout.strip() == ""

    # a folder under our name written by an older recipe (its record names another key) is not trusted either
    _leave_wheel(cache / key, other)
    assert lw.find_wheel(cache, key) is None

    mine = _leave_wheel(cache / key, key)
    assert lw.find_wheel(cache, key) == mine
    out = _dry_run(cache)
    assert "using cached" in out.stderr and out.stdout.strip() == str(mine)


def test_the_makefile_installs_the_keyed_wheel_only() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "deploy/llama_wheel.py build" in makefile and "--no-cache-dir" in SCRIPT.read_text()
    assert "llama-smoke" in makefile.split("\ntest:")[1].splitlines()[0]
    assert "pip wheel" not in makefile, "the wheel is built only by deploy/llama_wheel.py (keyed cache)"


def test_a_cpu_without_the_recipes_instructions_is_told_so(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse sse2 ssse3\n")
    assert lw.missing_cpu_flags("x86-64-v3", cpuinfo) == ["sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"]
    assert lw.missing_cpu_flags("x86-64", cpuinfo) == []


def test_smoke_names_the_cause_of_a_crash(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    crash = "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"
    with pytest.raises(SystemExit, match=r"SIGSEGV \(segmentation fault\).*AMX"):
        lw.smoke(model, child=crash)
    illegal = "import os, signal; os.kill(os.getpid(), signal.SIGILL)"
    with pytest.raises(SystemExit, match="illegal instruction"):
        lw.smoke(model, child=illegal)


@pytest.mark.llm
def test_smoke_generates_with_the_installed_build_and_rejects_a_broken_model(tmp_path: Path) -> None:
    out = lw.smoke(lw.smollm2_path())
    assert out.startswith("generated ") and "tokens" in out
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\xff" * 64)
    with pytest.raises(SystemExit, match="exited with status 1"):
        lw.smoke(broken)
