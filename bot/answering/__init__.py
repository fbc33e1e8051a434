"""Answer back-ends behind one protocol: given numbered passages, write text with [n] markers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from bot.types import Chunk


@dataclass
class AnswerDraft:
    """A back-end's raw output: text whose [n] refer to the passages it was given (1-based)."""

    text: str
    refused: bool = False
    backend: str = "offline"


class Answerer(Protocol):
    """Writes an answer from numbered passages."""

    name: str

    def answer(self, question: str, passages: list[Chunk], history: list[dict[str, str]]) -> AnswerDraft:
        """The whole answer at once."""
        ...

    def stream(self, question: str, passages: list[Chunk], history: list[dict[str, str]]) -> Iterator[str]:
        """The answer as text pieces (the extractive one yields it in one piece)."""
        ...
