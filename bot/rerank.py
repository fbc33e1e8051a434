"""Reorder the top passages so the first is the one that answers: a linear score over per-passage evidence.

The features (bot/evidence.py PASSAGE_FEATURES) say how well each passage's best sentence answers what is
asked (similarity, subject-and-relation, typed coverage, title naming the subject) beside its retrieval
score and rank. The weights ship in bot/rerank.json, fitted by evals/calibrate.py (pointwise logistic
regression: is the passage from a gold document?) and judged by cross-validation only. Without the file
the retrieval order is kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RERANK_PATH = Path(__file__).with_name("rerank.json")


@dataclass
class Reranker:
    """Standardised linear scorer over per-passage features."""

    features: tuple[str, ...]
    mean: list[float]
    scale: list[float]
    coef: list[float]

    def scores(self, passages: list[dict[str, float]]) -> list[float]:
        """One score per passage (higher first)."""
        if not passages:
            return []
        x = np.array([[p[f] for f in self.features] for p in passages], dtype=float)
        return ((x - np.array(self.mean)) / np.array(self.scale) @ np.array(self.coef)).tolist()

    def order(self, passages: list[dict[str, float]]) -> list[int]:
        """Indices of the passages, best first (ties keep the retrieval order)."""
        s = self.scores(passages)
        return sorted(range(len(passages)), key=lambda i: (-s[i], i))

    def to_json(self) -> dict[str, object]:
        """The file form."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}

    @classmethod
    def load(cls, path: Path = RERANK_PATH) -> Reranker | None:
        """The shipped reranker, or None when there is none."""
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        data = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        data["features"] = tuple(data["features"])
        return cls(**data)
