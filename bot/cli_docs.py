"""The README's generated parts (README.md runs them through cog): the command reference, rendered from the
CLI's own parser, and the settings tables, rendered from `Settings` and its nested groups."""

from __future__ import annotations

import argparse
import os
from typing import Any

from pydantic import BaseModel

WIDTH = "100"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _walk(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parser and every sub-command's parser, depth first, in declaration order."""
    out = [parser]
    for child in _subparsers(parser).values():
        out.extend(_walk(child))
    return out


def command_reference() -> str:
    """Markdown: one fenced `--help` text per command and sub-command, at a fixed width."""
    from bot.cli import build_parser

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH  # argparse wraps to the terminal: fix it so the output is reproducible
    try:
        blocks = []
        for parser in _walk(build_parser()):
            blocks.append(f"```text\n$ {parser.prog} --help\n{parser.format_help().rstrip()}\n```")
        return "\n\n".join(blocks)
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved


def readme_default(value: object) -> str:
    """A default as the README writes it: – for none, 50 for 50.0."""
    if value is None:
        return "–"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _row(names: str, default: object, description: str | None) -> str:
    meaning = (description or "").replace("|", "\\|")
    return f"| {names} | `{readme_default(default)}` | {meaning} |"


def _nested_rows(prefix: str, part: BaseModel) -> list[str]:
    """One row per field of a settings group (its defaults as the group's default instance holds them)."""
    rows = []
    for name, info in type(part).model_fields.items():
        value = getattr(part, name)
        if isinstance(value, BaseModel):
            rows.extend(_nested_rows(f"{prefix}__{name.upper()}", value))
        else:
            rows.append(_row(f"`{prefix}__{name.upper()}`", value, info.description))
    return rows


def settings_reference() -> str:
    """Markdown: the flat settings' table, then one table per nested group (HELPDESK_<GROUP>__<FIELD>)."""
    from bot.settings import Settings

    header = ["| variable | default | meaning |", "|---|---|---|"]
    flat, groups = list(header), []
    for name, info in Settings.model_fields.items():
        default: Any = info.get_default(call_default_factory=True)
        if isinstance(default, BaseModel):
            prefix = f"HELPDESK_{name.upper()}"
            groups += ["", f"`{prefix}__…`: {info.description}", "", *header, *_nested_rows(prefix, default)]
            continue
        choices = getattr(info.validation_alias, "choices", None)
        names = " or ".join(f"`{c}`" for c in choices) if choices else f"`HELPDESK_{name.upper()}`"
        flat.append(_row(names, default, info.description))
    return "\n".join(flat + groups)
