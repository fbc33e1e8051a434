"""The start-up line says which answerer writes the answers and how to switch to the local model."""

from __future__ import annotations

from bot.server import answer_mode_line
from bot.settings import Settings


def test_the_offline_default_says_how_to_get_the_local_model() -> None:
    line = answer_mode_line(Settings().model_copy(update={"llm": "offline"}))
    assert "offline default" in line and "make models && HELPDESK_LLM=local make run" in line


def test_a_configured_endpoint_is_named() -> None:
    line = answer_mode_line(Settings().model_copy(update={"llm": "auto", "llm_base_url": "http://127.0.0.1:8001/v1"}))
    assert "http://127.0.0.1:8001/v1" in line and "HELPDESK_LLM=local make run" not in line


def test_the_local_model_is_named() -> None:
    line = answer_mode_line(Settings().model_copy(update={"llm": "local"}))
    assert "local model (HELPDESK_LLM=local)" in line
