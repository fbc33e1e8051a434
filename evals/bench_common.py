"""What every `helpdesk bench` command shares: the machine's description, its load, scales, percentiles.

The bench modules import this one and never each other (bench.py only registers the others' commands).
"""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np

# the shared development questions beside the repository (../shared/evals/dev.jsonl)
DEFAULT_QUESTIONS = Path(__file__).resolve().parents[1].parent / "shared" / "evals" / "dev.jsonl"


def machine_info() -> dict[str, Any]:
    """CPU count and model, total RAM and Python version of this machine."""
    cpu_model = platform.processor() or platform.machine()
    ram_gb = 0.0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = int(line.split()[1]) / 1024**2
                break
    except OSError:
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "ram_gb": round(ram_gb, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def load_1m() -> float:
    """The machine's 1-minute load average (other processes competing for the CPUs skew wall times)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return 0.0


def parse_scales(text: str) -> list[int]:
    """'1,10' → [1, 10] (positive integers)."""
    try:
        scales = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"scales must be comma-separated integers, not '{text}'") from None
    if not scales or any(s < 1 for s in scales):
        raise argparse.ArgumentTypeError(f"scales must be integers ≥ 1, not '{text}'")
    return scales


def percentiles(values: list[float], points: tuple[int, ...] = (50, 95)) -> dict[str, float]:
    """{'p50': …, 'p95': …, 'max': …} of `values` in their unit, rounded to 0.1 (zeros when empty)."""
    arr = np.asarray(values or [0.0], dtype=float)
    return {f"p{q}": round(float(np.percentile(arr, q)), 1) for q in points} | {"max": round(float(arr.max()), 1)}
