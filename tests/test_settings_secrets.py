"""Secrets in the settings (the endpoint's API key, staff passwords) are never printed, dumped or echoed."""

from __future__ import annotations

import pytest

from bot.settings import load_settings, reveal


def test_the_api_key_and_staff_passwords_stay_hidden_until_revealed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-9f8e7d")
    monkeypatch.setenv("HELPDESK_STAFF_USERS", "alice:pa55-word")
    settings = load_settings()
    for shown in (repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())):
        assert "sk-test-9f8e7d" not in shown and "pa55-word" not in shown
    assert reveal(settings.llm_api_key) == "sk-test-9f8e7d" and settings.llm_enabled
    assert settings.staff_credentials() == [("alice", "pa55-word")]
    monkeypatch.setenv("OPENAI_API_KEY", "")
    assert reveal(None) is None and not load_settings().llm_enabled


def test_a_secret_is_named_but_not_echoed_in_a_settings_error() -> None:
    from bot.errors import SettingsInvalid

    with pytest.raises(SettingsInvalid) as err:
        load_settings(staff_users=["alice:pa55-word"])  # not text
    assert "HELPDESK_STAFF_USERS" in str(err.value) and "pa55-word" not in str(err.value)
