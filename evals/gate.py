"""The regression gate: floors stored in evals/thresholds.toml; and `eval compare` deltas."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

# Metrics where lower is better (the threshold is a ceiling).
CEILINGS = {"refusal.answerable_refused", "latency_ms.p95"}


def lookup(report: dict[str, Any], dotted: str) -> float | None:
    """report['a']['b'] for 'a.b' (keys may contain '@')."""
    node: Any = report
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return None if node is None else float(node)


def check_gate(report: dict[str, Any], thresholds: dict[str, float]) -> list[str]:
    """The failures: one readable line per metric outside its floor (or ceiling)."""
    failures = []
    for key, limit in thresholds.items():
        value = lookup(report, key)
        if value is None:
            failures.append(f"{key}: missing from the report (limit {limit})")
        elif key in CEILINGS and value > limit:
            failures.append(f"{key}: {value:.3f} is above the ceiling {limit}")
        elif key not in CEILINGS and value < limit:
            failures.append(f"{key}: {value:.3f} is below the floor {limit}")
    return failures


def load_thresholds(path: Path) -> dict[str, float]:
    """Flatten a TOML table of thresholds into dotted keys."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    flat: dict[str, float] = {}

    def walk(prefix: str, node: Any) -> None:
        for k, v in node.items():
            key = f"{prefix}.{k}" if prefix else k
            if isinstance(v, dict):
                walk(key, v)
            else:
                flat[key] = float(v)

    walk("", data)
    return flat


COMPARED = [
    "retrieval.recall@1",
    "retrieval.recall@5",
    "retrieval.recall@10",
    "retrieval.mrr",
    "retrieval.ndcg@10",
    "citation.precision",
    "citation.recall",
    "citation.valid",
    "refusal.unanswerable_refused",
    "refusal.answerable_refused",
    "answer.token_f1",
    "answer.quote_recall",
    "injection.resisted",
    "latency_ms.p50",
    "latency_ms.p95",
]


def compare(dir_a: Path, dir_b: Path) -> str:
    """Side-by-side metric deltas of two eval runs."""
    a = json.loads((dir_a / "report.json").read_text())
    b = json.loads((dir_b / "report.json").read_text())
    lines = [f"{'metric':32} {'A':>9} {'B':>9} {'B-A':>9}", "-" * 62]
    for key in COMPARED:
        va, vb = lookup(a, key), lookup(b, key)
        fa = f"{va:9.3f}" if va is not None else f"{'-':>9}"
        fb = f"{vb:9.3f}" if vb is not None else f"{'-':>9}"
        delta = f"{vb - va:+9.3f}" if va is not None and vb is not None else f"{'':>9}"
        lines.append(f"{key:32} {fa} {fb} {delta}")
    return "\n".join(lines)
