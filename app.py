"""Serve the Policy Helpdesk Assistant: Settings → components → Gradio app (+ JSON API)."""

import sys

import bot  # noqa: F401  (offline environment first)
from bot.errors import HelpdeskError
from bot.server import serve
from bot.settings import load_settings

if __name__ == "__main__":
    try:
        serve(load_settings())
    except HelpdeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
