"""The suite is isolated from the developer's environment: session fixtures included."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.settings import Settings
from tests.conftest import ROOT


def test_session_settings_are_the_defaults(eval_settings: Settings) -> None:
    """Run by the suite and, below, by a child pytest whose environment and .env say otherwise."""
    fresh = Settings()
    assert eval_settings.llm_base_url is None and eval_settings.llm_api_key is None
    assert eval_settings.embed_model == Settings.model_fields["embed_model"].default
    assert fresh.collection == "helpdesk" and fresh.llm_base_url is None
    assert not [k for k in os.environ if k.startswith("HELPDESK_") and k != "HELPDESK_CHROMA_PATH"]


def test_session_fixtures_ignore_the_developers_env_and_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("HELPDESK_COLLECTION=from-dotenv\nHELPDESK_EMBED_MODEL=minilm-int8\n")
    env = {
        **os.environ,
        "HELPDESK_LLM_BASE_URL": "http://127.0.0.1:9/v1",
        "OPENAI_API_KEY": "sk-real-key-of-the-developer",
        "HELPDESK_EMBED_MODEL": "e5-small",
    }
    target = f"{ROOT / 'tests' / 'test_isolation.py'}::test_session_settings_are_the_defaults"
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT), target],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:]
    assert "1 passed" in out.stdout
