"""Serve the Policy Helpdesk Assistant: Settings → components → Gradio app (+ JSON API)."""

import sys

import bot  # noqa: F401  (offline environment first)
from bot.errors import HelpdeskError
from bot.settings import Settings
from bot.ui import serve

if __name__ == "__main__":
    try:
        serve(Settings())
    except HelpdeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
