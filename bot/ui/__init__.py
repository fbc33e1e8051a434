"""Gradio layout and events only; the logic lives in bot/ (Assistant, drafting, ingest)."""

from __future__ import annotations

import logging

from bot.settings import Settings

log = logging.getLogger(__name__)


def serve(settings: Settings) -> None:
    """Build the components and serve the app on settings.host:settings.port."""
    from bot.components import build_components
    from bot.ui.app import build_app

    comps = build_components(settings)
    comps.assistant.warm_up()
    app = build_app(comps)
    app.queue(default_concurrency_limit=8)
    app.launch(server_name=settings.host, server_port=settings.port, share=False, show_error=False)
