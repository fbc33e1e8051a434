"""Gradio layout and events only; the logic lives in bot/ (Assistant, drafting, ingest)."""

from __future__ import annotations

import logging

from bot.settings import Settings

log = logging.getLogger(__name__)


def serve(settings: Settings) -> None:
    """Build the components and serve the UI (at /) and the JSON API (/api/...) on settings.host:port."""
    import uvicorn

    from bot.components import build_components
    from bot.server import create_app

    comps = build_components(settings)
    comps.assistant.warm_up()
    app = create_app(comps)
    print(f"Policy Helpdesk Assistant on http://{settings.host}:{settings.port}  (JSON API: /api/ask)", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
