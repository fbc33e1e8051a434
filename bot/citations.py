"""The `[n]` citation markers of answers and drafts: one pattern, and how a quoted sentence gets its marker.

Answers (extractive and LLM), the sentence-support check, reply drafts, the chat rendering and the evals
all read or write the same markers: `[1]` … `[999]`, numbered from 1 in the order of the citations.
"""

from __future__ import annotations

import re

MARKER = re.compile(r"\[(\d{1,3})\]")
# a marker with the space before it, for removing it from a sentence without leaving a gap
SPACED_MARKER = re.compile(r"\s*" + MARKER.pattern)
_BULLET = re.compile(r"^[-*•]\s+")
_CLOSING = re.compile(r"([.!?])([\"'”)*]*)$")


def cited_numbers(text: str) -> list[int]:
    """All marker numbers in order of appearance."""
    return [int(n) for n in MARKER.findall(text)]


def strip_bullet(sentence: str) -> str:
    """The sentence without surrounding blanks and a leading list bullet ("- ", "* ", "• ")."""
    return _BULLET.sub("", sentence.strip())


def end_sentence(sentence: str) -> str:
    """The sentence with closing punctuation (a full stop added when it has none)."""
    return sentence if sentence[-1:] in '.!?)"”*' else sentence + "."


def as_sentence(text: str) -> str:
    """A quoted passage sentence ready to cite: no list bullet, closing punctuation."""
    return end_sentence(strip_bullet(text))


def cite(sentence: str, n: int) -> str:
    """Put the marker before the closing punctuation: "... 60 000€ [1]." """
    m = _CLOSING.search(sentence)
    if m:
        return f"{sentence[: m.start()]} [{n}]{m.group(1)}{m.group(2)}"
    return f"{sentence} [{n}]"
