"""Text from documents is data: recognise instructions aimed at an assistant, and system-prompt leaks."""

from __future__ import annotations

import re

from bot.lexical import sentences
from bot.prompts import INJECTION_PATTERNS, SYSTEM_PROMPT

_INJECTION = re.compile("|".join(INJECTION_PATTERNS), re.I)
REMOVED = "[text addressed to AI assistants removed]"


def is_instruction(sentence: str) -> bool:
    """True for text that addresses an AI assistant (never quoted as an answer, never sent as-is to an LLM)."""
    return bool(_INJECTION.search(sentence))


def neutralise_instructions(text: str) -> str:
    """The passage with every sentence that addresses an assistant replaced by a marker."""
    if not _INJECTION.search(text):
        return text
    return " ".join(REMOVED if is_instruction(s) else s for s in sentences(text))


def leaks_system_prompt(answer: str) -> bool:
    """True when the answer repeats a line of the system prompt."""
    low = " ".join(answer.lower().split())
    for line in SYSTEM_PROMPT.splitlines():
        line = " ".join(line.strip().lower().split())
        if len(line) >= 30 and line in low:
            return True
    return False
