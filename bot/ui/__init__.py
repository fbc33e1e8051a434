"""Gradio layout and events only; the logic lives in bot/ (Assistant, drafting, ingest)."""

from __future__ import annotations

from bot.settings import Settings


def serve(settings: Settings) -> None:
    """Serve the UI and the JSON API (kept for old imports; the server lives in bot.server)."""
    from bot.server import serve as serve_app

    serve_app(settings)
