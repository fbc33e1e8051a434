"""The start-up line says which answerer writes the answers and how to switch to the local model."""

from __future__ import annotations

import dataclasses

from bot.server import answer_mode_line


def test_the_offline_default_says_how_to_get_the_local_model(eval_components) -> None:
    line = answer_mode_line(eval_components)
    assert "offline default" in line and "make models && HELPDESK_LLM=local make run" in line


def test_a_configured_endpoint_is_named(eval_components) -> None:
    settings = eval_components.settings.model_copy(update={"llm_base_url": "http://127.0.0.1:8001/v1"})
    line = answer_mode_line(dataclasses.replace(eval_components, settings=settings))
    assert "http://127.0.0.1:8001/v1" in line and "HELPDESK_LLM=local make run" not in line
