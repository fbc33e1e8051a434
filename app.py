"""Serve the Policy Helpdesk Assistant: Settings → components → Gradio app."""

import bot  # noqa: F401  (offline environment first)
from bot.settings import Settings
from bot.ui import serve

if __name__ == "__main__":
    serve(Settings())
