"""The question-set format (JSON lines) of shared/evals/dev.jsonl; unknown fields are ignored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import HelpdeskError

TYPES = ("factoid", "multi_doc", "comparison", "follow_up", "unanswerable", "injection")


class EvalQuestion(BaseModel):
    """One evaluation question with its gold documents and quotes."""

    model_config = ConfigDict(extra="ignore")

    id: str
    question: str
    gold_doc_ids: list[str] = Field(default_factory=list)
    gold_quotes: list[str] = Field(default_factory=list)
    answer: str = ""
    type: str = "factoid"
    history: list[dict[str, str]] = Field(default_factory=list)
    gold_match: Literal["any", "all"] = "any"
    lang: str | None = None
    must_not_contain: list[str] = Field(default_factory=list)
    corpus_dir: str | None = None

    @property
    def answerable(self) -> bool:
        """Unanswerable questions have no gold documents; the right outcome is a refusal."""
        return self.type != "unanswerable" and bool(self.gold_doc_ids)


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read a JSONL question file; a bad line is an error naming the file and line."""
    out: list[EvalQuestion] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise HelpdeskError(f"{path}: cannot read question file ({exc.strerror or exc})") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append(EvalQuestion.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            first = str(exc).splitlines()[0]
            raise HelpdeskError(f"{path}:{n}: not a valid question ({first})") from exc
    if not out:
        raise HelpdeskError(f"{path}: no questions")
    return out
