"""The README's command reference, rendered from the CLI's own parser (README.md runs it through cog)."""

from __future__ import annotations

import argparse
import os

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
