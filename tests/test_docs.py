"""The README documents what the code does: the CLI reference is generated from the parser, settings match."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

from pydantic import BaseModel

from bot.cli import build_parser
from bot.settings import Settings
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands() -> None:
    head = README.split("\n## ")[0]
    assert "make run" in head and "make test" in head


def test_cli_reference_is_generated_from_the_parser() -> None:
    """`cog --check` re-renders every command's --help and the settings tables; fails on drift (`make docs` fixes)."""
    out = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", "README.md"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, f"README command reference is stale; run `make docs`\n{out.stdout}{out.stderr}"


def test_every_cli_command_and_option_is_in_the_readme() -> None:
    def walk(parser, prefix):
        for action in parser._actions:
            if action.option_strings and action.dest != "help" and action.help != argparse.SUPPRESS:
                yield prefix, action.option_strings[-1]
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    yield f"{prefix} {name}", None
                    yield from walk(child, f"{prefix} {name}")

    for command, option in walk(build_parser(), "helpdesk"):
        assert f"$ {command} --help" in README, command
        if option:
            section = README.split(f"$ {command} --help", 1)[1].split("```", 1)[0]
            assert option in section, (command, option)


def _readme_settings() -> dict[str, str]:
    """HELPDESK_* variable → default as written in the README's settings table."""
    table = README.split("## Settings", 1)[1].split("\n## ", 1)[0]
    out: dict[str, str] = {}
    for row in table.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) < 3:
            continue
        names = re.findall(r"`(HELPDESK_\w+)`", cells[0])
        defaults = [d.strip().strip("`") for d in cells[1].split(" / ")]
        for i, name in enumerate(names):
            out[name] = defaults[i] if len(defaults) == len(names) else defaults[0]
    return out


def _as_readme(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _variables(prefix: str, model: type[BaseModel], instance: BaseModel | None = None) -> dict[str, object]:
    """Every variable of a settings model → its default, nested groups as HELPDESK_<GROUP>__<FIELD>."""
    out: dict[str, object] = {}
    for field, info in model.model_fields.items():
        value = getattr(instance, field) if instance is not None else info.get_default(call_default_factory=True)
        name = f"{prefix}{field.upper()}"
        if isinstance(value, BaseModel):
            out |= _variables(f"{name}__", type(value), value)
        else:
            out[name] = value
    return out


def test_every_setting_is_in_the_readme_with_its_real_default() -> None:
    documented = _readme_settings()
    variables = _variables("HELPDESK_", Settings)
    assert "HELPDESK_RETRIEVAL__DENSE_K" in variables and "HELPDESK_DRAFTING__SELECTOR__MAX_WORDS" in variables
    for name, default in variables.items():
        assert name in documented, name
        assert documented[name] == _as_readme(default), (name, documented[name])


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
