"""One HTTP server: a small JSON API (`/api/ask`, `/api/health`) beside the Gradio UI mounted at `/`.

The JSON API is what load tests and other programs use; the Gradio app also exposes named endpoints
(`/ask`, `/draft`) for `gradio_client`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bot.components import Components
from bot.errors import HelpdeskError, QuestionRejected, StoreUnavailable
from bot.types import Filters


class AskRequest(BaseModel):
    """Body of POST /api/ask."""

    question: str
    history: list[dict[str, str]] = Field(default_factory=list)
    filters: dict[str, str] = Field(default_factory=dict)


def create_api(comps: Components) -> FastAPI:
    """The JSON API over the shared Assistant (thread-safe: FastAPI runs sync handlers in a pool)."""
    api = FastAPI(title="Policy Helpdesk Assistant API", docs_url="/api/docs", openapi_url="/api/openapi.json")

    @api.get("/api/health")
    def health() -> dict[str, Any]:
        try:
            docs = len(comps.store.documents())
        except StoreUnavailable as exc:
            return JSONResponse({"ok": False, "error": str(exc)}, status_code=503)  # type: ignore[return-value]
        return {"ok": True, "documents": docs, "llm": comps.assistant.llm is not None}

    @api.post("/api/ask")
    def ask(req: AskRequest) -> Any:
        known = {k: v for k, v in req.filters.items() if k in Filters.__dataclass_fields__ and v}
        try:
            answer = comps.assistant.ask(req.question, req.history, Filters(**known) if known else None)
        except QuestionRejected as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        except StoreUnavailable as exc:
            return JSONResponse({"error": str(exc)}, status_code=503)
        except HelpdeskError as exc:
            return JSONResponse({"error": str(exc)}, status_code=500)
        return answer.to_dict()

    return api


def create_app(comps: Components, with_ui: bool = True) -> FastAPI:
    """The JSON API, and the Gradio UI at `/` (when `with_ui`).

    With HELPDESK_STAFF_USERS set, `/` serves the public Ask tab only and `/staff` the whole app
    (drafting and the library) behind Gradio's login.
    """
    api = create_api(comps)
    if not with_ui:
        return api
    import gradio as gr

    from bot.ui.app import build_app, launch_options

    options = launch_options(comps.settings)
    staff = comps.settings.staff_credentials()
    if staff:
        staff_app = build_app(comps, staff_tools=True)
        staff_app.queue(default_concurrency_limit=8)
        api = gr.mount_gradio_app(api, staff_app, path="/staff", auth=staff, **options)
    public = build_app(comps, staff_tools=not staff)
    public.queue(default_concurrency_limit=8)
    return gr.mount_gradio_app(api, public, path="/", **options)
