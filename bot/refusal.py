"""Answerability: answer, answer with a caution, or say the library does not cover the question.

The evidence is sentence-level (bot/evidence.py): whether some sentence of the top passages is about the
question's subject and carries what is asked (by terms and by meaning through the embedder), whether the
expected answer type is there, unknown names, missing years, dense/lexical agreement. A logistic-regression
combiner weighs the features into p(answerable); two thresholds cut it into three outcomes:
p < refuse_below → "not covered"; p < caution_below → an answer with a caution; else an answer.
The weights and thresholds ship in bot/answerability.json, fitted by evals/calibrate.py on the development
questions plus their leave-gold-out twins, and judged by cross-validation only (evals/README.md).
Applying the model needs numpy only (no scikit-learn at run time).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.config import AnswerabilityConfig
from bot.evidence import FEATURES, UNKNOWN_TERM_IDF, Embed, gather, key_terms
from bot.retrieval import LexicalIndex, Retrieval

MODEL_PATH = Path(__file__).with_name("answerability.json")

__all__ = ["UNKNOWN_TERM_IDF", "AnswerabilityModel", "Evidence", "RefusalConfig", "assess", "key_terms"]


@dataclass
class AnswerabilityModel:
    """Standardised logistic regression over the evidence features, with the two outcome thresholds."""

    features: tuple[str, ...]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    refuse_below: float
    caution_below: float

    def probability(self, features: dict[str, float]) -> float:
        """p(answerable) for one question's features."""
        x = (np.array([features[f] for f in self.features]) - np.array(self.mean)) / np.array(self.scale)
        z = float(x @ np.array(self.coef) + self.intercept)
        return float(1.0 / (1.0 + np.exp(-z)))

    def outcome(self, p: float) -> str:
        """ "answered", "caution" or "not_covered"."""
        if p < self.refuse_below:
            return "not_covered"
        return "caution" if p < self.caution_below else "answered"

    def to_json(self) -> dict[str, object]:
        """The file form."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> AnswerabilityModel:
        """Read the fitted model (bot/answerability.json)."""
        data = json.loads(path.read_text(encoding="utf-8"))
        data = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        data["features"] = tuple(data["features"])
        return cls(**data)


@dataclass
class RefusalConfig:
    """The answerability model (None: the shipped bot/answerability.json) and the similarity floor (settings)."""

    model: AnswerabilityModel | None = None
    min_dense: float = field(default_factory=lambda: AnswerabilityConfig().min_dense)
    # the sentence embedder (the Assistant sets its cached one): used when assess() is given none
    embed: Embed | None = None

    @classmethod
    def from_settings(cls, config: AnswerabilityConfig) -> RefusalConfig:
        """The refusal step's config from its part of the settings tree (`Settings.answerability`)."""
        return cls(min_dense=config.min_dense)

    def resolved(self) -> AnswerabilityModel:
        """The model in use, loaded once."""
        if self.model is None:
            self.model = AnswerabilityModel.load()
        return self.model


@dataclass
class Evidence:
    """The features behind one decision (kept in eval results to explain refusals)."""

    coverage: float
    dense_top: float
    agree: bool
    language: str
    missing: list[str] = field(default_factory=list)
    answerable: bool = True
    reason: str = ""
    outcome: str = "answered"
    probability: float = 1.0
    features: dict[str, float] = field(default_factory=dict)
    passages: list[dict[str, float]] = field(default_factory=list)


def assess(
    question: str,
    retrieval: Retrieval,
    lexical: LexicalIndex,
    config: RefusalConfig,
    passages: int = 5,
    embed: Embed | None = None,
) -> Evidence:
    """Decide whether the top `passages` retrieved passages (those the answerer sees) answer the question."""
    ev = gather(question, retrieval, lexical, embed or config.embed, passages)
    f = ev.features
    out = Evidence(
        coverage=f["coverage"],
        dense_top=f["dense_top"],
        agree=bool(f["agree"]),
        language="en" if not f["foreign"] else "other",
        missing=ev.missing,
        features=f,
        passages=ev.passages,
    )
    if not retrieval.chunks:
        out.answerable, out.outcome, out.probability, out.reason = False, "not_covered", 0.0, "nothing retrieved"
        return out
    if f["dense_top"] < config.min_dense:
        out.answerable, out.outcome, out.probability = False, "not_covered", 0.0
        out.reason = f"best passage similarity {f['dense_top']:.2f} too low"
        return out
    model = config.resolved()
    out.probability = model.probability(f)
    out.outcome = model.outcome(out.probability)
    out.answerable = out.outcome != "not_covered"
    out.reason = _explain(ev, out.probability)
    return out


def _explain(ev: object, p: float) -> str:
    """A short reason for logs and eval results."""
    from bot.evidence import SentenceEvidence

    assert isinstance(ev, SentenceEvidence)
    parts = [f"p(answerable) {p:.2f}"]
    if ev.unknown_names:
        parts.append(f"the library never mentions {', '.join(ev.unknown_names[:3])}")
    if ev.missing_years:
        parts.append(f"no passage mentions {', '.join(ev.missing_years)}")
    if ev.expected and ev.features["typed_cov"] < ev.features["sent_cov"]:
        parts.append(f"the sentences that give a {ev.expected} miss some of what is asked")
    if ev.missing:
        parts.append(f"key terms not found: {', '.join(ev.missing[:5])}")
    return "; ".join(parts)


def feature_vector(features: dict[str, float]) -> list[float]:
    """The features in the model's order (evals/calibrate.py)."""
    return [float(features[f]) for f in FEATURES]
