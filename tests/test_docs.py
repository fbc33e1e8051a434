"""The README documents what the code does: every CLI command and every setting."""

from __future__ import annotations

from bot.cli import build_parser
from bot.settings import Settings
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands() -> None:
    head = README.split("\n## ")[0]
    assert "make run" in head and "make test" in head


def test_every_cli_command_is_in_the_readme() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:
        assert f"helpdesk {name}" in README, name


def test_every_setting_is_in_the_readme() -> None:
    for field in Settings.model_fields:
        assert f"HELPDESK_{field.upper()}" in README, field


def test_deploy_compose_matches_the_code() -> None:
    """docker has no engine here, so compose cannot run in CI; keep it consistent with the code instead."""
    import yaml

    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    env = compose["services"]["app"]["environment"]
    fields = {f"HELPDESK_{f.upper()}" for f in Settings.model_fields}
    for key in env:
        assert key in fields or key in ("OPENAI_BASE_URL", "OPENAI_API_KEY"), key
    pinned = next(
        line.split("==")[1]
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line.startswith("chromadb==")
    )
    assert compose["services"]["chroma"]["image"] == f"chromadb/chroma:{pinned}"
    assert "Deployment beyond one machine" in README
