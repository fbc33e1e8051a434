"""Follow-ups: rewrite a question that depends on the conversation into a standalone one.

Offline heuristic (documented in README): when the question refers back (openers such as "and", "ok",
"what about"; pronouns such as "it", "that", "they" unless the question names its own subject; or fewer
than three key terms of its own), prepend the previous user question (itself made standalone first, so a
chain of follow-ups keeps its subject), which carries the subject ("Tell me about C3-Saxony." + "Which two clusters does
it connect?"). With an LLM configured, the LLM rewrites it instead (see bot/answering/llm.py).
"""

from __future__ import annotations

import re

from bot.lexical import proper_names, words
from bot.refusal import key_terms

_REFERS_BACK = frozenset(
    [
        "it",
        "its",
        "it's",
        "they",
        "them",
        "their",
        "theirs",
        "this",
        "that",
        "these",
        "those",
        "he",
        "she",
        "his",
        "her",
        "there",
        "such",
        "former",
        "latter",
        "same",
        "ones",
        "one",
    ]
)
_OPENERS = re.compile(r"^\s*(and|but|also|ok(ay)?|so|then|what about|how about|und|et|y|e)\b", re.I)


def needs_context(question: str, history: list[dict[str, str]]) -> bool:
    """Whether the question probably depends on earlier turns."""
    if not any(turn.get("role") == "user" for turn in history):
        return False
    if _OPENERS.match(question):
        return True
    own_terms = len(key_terms(question))
    if own_terms >= 3 and proper_names(question):
        return False  # "Which clusters did Piedmont establish in its S3 areas?" names its own subject
    return bool(set(words(question)) & _REFERS_BACK) or own_terms < 3


def condense(question: str, history: list[dict[str, str]]) -> str:
    """A standalone question for retrieval (the question itself when it stands alone).

    The previous user question is itself made standalone first, so a chain of follow-ups keeps its subject
    ("Tell me about C3-Saxony." → "Which clusters does it connect?" → "And what inspired that?"); the
    assistant's replies are not used, so a refused or cautioned turn keeps the subject too.
    """
    if not needs_context(question, history):
        return question
    users = [i for i, t in enumerate(history) if t.get("role") == "user" and t.get("content")]
    if not users:
        return question
    last = users[-1]
    previous = condense(history[last].get("content", "").strip(), history[:last])
    return f"{previous} {question.strip()}"
