"""What people and programs send us, cleaned before anything is echoed, rendered or searched.

Every entry point (the Ask box, the Gradio `/ask` API, the JSON API, the CLI) passes its text, history and
filters through here, so a lone surrogate or a control character can never reach a renderer (Gradio's
JSON encoder refuses surrogates) and a filter of the wrong shape gets a sentence, not a traceback.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from bot.errors import QuestionRejected
from bot.types import Filters

FILTER_KEYS = tuple(Filters.__dataclass_fields__)
_FILTER_EXAMPLE = '{"country": "Italy", "topic": "innovation"}'
_SURROGATE = re.compile("[\ud800-\udfff]")
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")  # can disguise text


def clean_text(value: object) -> str:
    """Text safe to echo: lone surrogates, control and bidi-override characters removed (not newline, tab)."""
    text = value if isinstance(value, str) else str(value)
    text = _SURROGATE.sub("", text)  # not encodable as UTF-8: Gradio and JSON responses would fail
    return "".join(ch for ch in text if ch in "\n\t" or (unicodedata.category(ch) != "Cc" and ch not in _BIDI_CONTROLS))


def parse_history(value: Any) -> list[dict[str, str]]:
    """A conversation as a list of {"role", "content"} messages (a JSON string is accepted too)."""
    if isinstance(value, str):
        try:
            value = json.loads(value or "[]")
        except ValueError:
            raise QuestionRejected(
                'The history must be a JSON list of messages like [{"role": "user", "content": "…"}].'
            ) from None
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(m, dict) for m in value):
        raise QuestionRejected('The history must be a list of messages like [{"role": "user", "content": "…"}].')
    history = []
    for m in value:
        role, content = m.get("role", ""), m.get("content", "")
        if role not in ("user", "assistant") or not isinstance(content, str):
            raise QuestionRejected('Each history message needs a "role" ("user" or "assistant") and a text "content".')
        history.append({"role": role, "content": clean_text(content)})
    return history


def parse_filters(value: Any) -> Filters | None:
    """Filters from a mapping (or a JSON string) of text values; unknown keys and other shapes are refused."""
    if isinstance(value, str):
        try:
            value = json.loads(value or "{}")
        except ValueError:
            raise QuestionRejected(f"The filters must be a JSON object like {_FILTER_EXAMPLE}.") from None
    if value is None:
        return None
    if not isinstance(value, dict):
        raise QuestionRejected(f"The filters must be an object like {_FILTER_EXAMPLE}.")
    unknown = [str(k) for k in value if k not in FILTER_KEYS]
    if unknown:
        raise QuestionRejected(
            f"Unknown filter {clean_text(unknown[0])[:40]!r}: "
            f"use {', '.join(FILTER_KEYS)} (for example {_FILTER_EXAMPLE})."
        )
    values: dict[str, str | None] = {}
    for key, v in value.items():
        if v is not None and not isinstance(v, str):
            raise QuestionRejected(f'The filter "{key}" must be text, for example {_FILTER_EXAMPLE}.')
        values[key] = (clean_text(v).strip() or None) if v is not None else None
    filters = Filters(**values)
    return None if filters.is_empty() else filters
