"""One HTTP server: a small JSON API (`/api/ask`, `/api/health`) beside the Gradio UI mounted at `/`.

The JSON API is what load tests and other programs use; the Gradio app also exposes named endpoints
(`/ask`, `/draft`) for `gradio_client`. Who gets the Library tab (uploads, re-index): see `library_mount`.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from bot.deferred import LoadingComponents
from bot.errors import HelpdeskError, QuestionRejected, StoreUnavailable
from bot.settings import Settings
from bot.user_input import clean_text, parse_filters, parse_history
from bot.workers import AnswerPool, AnswerTimeout, PooledAssistant, WorkerLost, resolve_workers

if TYPE_CHECKING:  # imported by start_components: llama-index and the models take seconds to import
    from bot.components import Components

    # Components, or LoadingComponents: the same parts, some still loading (bot/deferred.py)
    ServerComponents = Components | LoadingComponents

UPLOAD_ROUTES = ("/gradio_api/upload",)  # also matches /gradio_api/upload_progress


class AskRequest(BaseModel):
    """Body of POST /api/ask (history and filters are checked by bot.user_input, with clear messages)."""

    question: str
    history: Any = None
    filters: Any = None


class TransferRequest(BaseModel):
    """Body of POST /api/transfer."""

    challenge: str
    region: str
    country: str = ""
    k: int = 8


_FIELD_NAMES = {"question": "question", "history": "history", "filters": "filters"}


def validation_sentence(exc: RequestValidationError) -> str:
    """A malformed request body as one sentence; never echoes the input (it may not even be encodable)."""
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        kind = str(err.get("type", ""))
        field = _FIELD_NAMES.get(loc[0], "") if loc else ""
        if kind.startswith("json"):
            return 'The request body is not valid JSON: send {"question": "your question"}.'
        if kind == "missing" and field:
            return f'The request has no "{field}": send {{"question": "your question"}}.'
        if field == "question":
            return 'The "question" must be text, for example {"question": "What are innovation vouchers?"}.'
        if not loc:
            return 'The request body must be a JSON object like {"question": "your question"}.'
    return 'The request is not valid: send {"question": "your question"} as JSON.'


def error_status(exc: HelpdeskError) -> int:
    """HTTP status of an error for people: a rejected question 422; a store or answering worker down 503; else 500."""
    if isinstance(exc, QuestionRejected):
        return 422
    return 503 if isinstance(exc, StoreUnavailable | WorkerLost | AnswerTimeout) else 500


def create_api(comps: ServerComponents) -> FastAPI:
    """The JSON API over the shared Assistant (thread-safe: FastAPI runs sync handlers in a pool).

    With answering workers (`comps.assistant` a PooledAssistant) /api/ask is answered in those processes.
    """
    api = FastAPI(title="Policy Helpdesk Assistant API", docs_url="/api/docs", openapi_url="/api/openapi.json")

    @api.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own 422 echoes the input and fails on what JSON cannot encode (inf, NaN, surrogates)
        return JSONResponse({"error": validation_sentence(exc)}, status_code=422)

    @api.exception_handler(HelpdeskError)
    async def helpdesk_error(request: Request, exc: HelpdeskError) -> JSONResponse:
        # one mapping for every endpoint (see error_status)
        return JSONResponse({"error": str(exc)}, status_code=error_status(exc))

    @api.get("/api/health")
    def health() -> Any:
        # bounded even when the store hangs: every Chroma server request has HELPDESK_CHROMA_TIMEOUT
        try:
            docs = len(comps.store.documents())
        except StoreUnavailable as exc:
            return JSONResponse({"ok": False, "store": "not answering", "error": str(exc)}, status_code=503)
        pool = comps.assistant.pool if isinstance(comps.assistant, PooledAssistant) else None
        workers = len(pool.pids()) if pool is not None else 1
        llm = comps.assistant.llm is not None
        health = {"ok": True, "store": "ok", "documents": docs, "llm": llm, "workers": workers}
        return health | ({"workers_share_models": pool.models_shared} if pool is not None else {})

    @api.post("/api/ask")
    def ask(req: AskRequest) -> Any:
        history = parse_history(req.history)
        filters = parse_filters(req.filters)
        return comps.assistant.ask(clean_text(req.question), history, filters).to_dict()

    finder: list[Any] = []  # built on first use: the Assistant's retriever and answerer are shared

    @api.post("/api/transfer")
    def transfer(req: TransferRequest) -> Any:
        from bot.transfer import TransferFinder

        if not finder:
            finder.append(TransferFinder(comps.assistant, comps.settings.transfer))
        return finder[0].find(req.challenge, req.region, req.country, k=max(1, min(req.k, 20))).to_dict()

    return api


def is_loopback(host: str) -> bool:
    """True when `host` only accepts connections from this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def library_mount(settings: Settings) -> str | None:
    """Where the Library tab (uploads, re-index) is served: '/staff' behind the login, '/' on loopback, or None.

    With HELPDESK_STAFF_USERS set, drafting and the library are at /staff behind Gradio's login. Without it,
    the library is only served when the app listens on loopback (the default, a single-user `make run`);
    an app open to the network without staff users has no upload route or event at all.
    """
    if settings.staff_credentials():
        return "/staff"
    return "/" if is_loopback(settings.host) else None


class _NoUploads:
    """ASGI middleware: the upload routes of the Gradio app at `/` answer 404 (that app has no file input)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith(UPLOAD_ROUTES):
            response = JSONResponse({"error": "Uploading files is not available on this app."}, status_code=404)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _accept_uploaded_files_only(blocks: Any) -> None:
    """Make Gradio check that event inputs' files are ones it received (in its upload folder).

    Gradio runs this check only in apps started with `launch()` (`has_launched`); a mounted app would copy
    any server path named in a FileData into its cache before the event handler even runs.
    """
    blocks.has_launched = True


def create_app(comps: ServerComponents, with_ui: bool = True) -> FastAPI:
    """The JSON API, and the Gradio UI at `/` (when `with_ui`).

    With HELPDESK_STAFF_USERS set, `/` serves the public Ask tab only and `/staff` the whole app
    (drafting and the library) behind Gradio's login; see `library_mount` for the Library tab.
    """
    api = create_api(comps)
    if not with_ui:
        return api
    import gradio as gr

    from bot.ui.app import build_app, launch_options

    options = launch_options(comps.settings)
    staff = comps.settings.staff_credentials()
    library_at = library_mount(comps.settings)
    if staff:
        staff_app = build_app(comps, staff_tools=True)
        staff_app.queue(default_concurrency_limit=8)
        _accept_uploaded_files_only(staff_app)
        api = gr.mount_gradio_app(api, staff_app, path="/staff", auth=staff, **options)
    public = build_app(comps, staff_tools=not staff, library=library_at == "/")
    public.queue(default_concurrency_limit=8)
    _accept_uploaded_files_only(public)
    if library_at != "/":
        api.add_middleware(_NoUploads)
    return gr.mount_gradio_app(api, public, path="/", **options)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything slow starts: a busy port fails at once, with one line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise HelpdeskError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} "
            "(is the app already running? choose another port with HELPDESK_PORT)"
        ) from None
    return sock


def start_components(settings: Settings, stack: ExitStack) -> tuple[ServerComponents, Callable[[], object]]:
    """The server's components, and a call that waits for what loads meanwhile (the models, while the UI is built).

    With HELPDESK_WORKERS ≥ 2 (and no language model) answering runs in a worker pool. Several processes reading
    one index need a Chroma server: the one at HELPDESK_CHROMA_HOST, or else `chroma run` over
    HELPDESK_CHROMA_PATH on loopback, started here and stopped with `stack`. The server and the workers start
    first and load on the other core. This process's own components (LoadingComponents) load once `start()` is
    called on them: `serve` does so once it has built the UI, and they load while the workers start.
    """
    workers = resolve_workers(settings.workers)
    if workers < 2 or settings.llm_enabled:
        from bot.components import build_components

        comps = build_components(settings)
        loading = ThreadPoolExecutor(1, thread_name_prefix="helpdesk-warm-up")
        warm_up = loading.submit(comps.assistant.warm_up)  # model loading is numpy and file reads, not the GIL
        loading.shutdown(wait=False)
        return comps, warm_up.result
    chroma = None
    if not settings.server_mode:
        from bot.store_server import LoopbackChroma

        chroma = LoopbackChroma(settings.chroma_path).launch()
        stack.callback(chroma.stop)
        settings = settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": chroma.port})
    pool = AnswerPool(settings, workers)
    stack.callback(pool.close)

    def start_pool() -> None:
        if chroma is not None:
            chroma.wait_ready()  # the workers open the store as soon as they have loaded
        pool.start()  # waits for the fork server's preload (bot/worker_preload.py): hence this thread

    starting = ThreadPoolExecutor(1, thread_name_prefix="helpdesk-workers")
    started = starting.submit(start_pool)
    starting.shutdown(wait=False)

    def load() -> Components:
        from bot.components import build_components

        if chroma is not None:
            chroma.wait_ready()
        return build_components(settings)  # models load lazily here: this process does not answer questions

    comps = LoadingComponents(settings, None, load)
    comps.assistant = PooledAssistant(lambda: comps.loaded().assistant, pool)

    def loaded() -> None:
        started.result()
        pool.wait_ready()

    return comps, loaded


def answer_mode_line(settings: Settings) -> str:
    """Which answerer writes the answers, and how to switch to the local model (README "The local reader")."""
    if settings.llm == "local":
        return "Answers: written by the local model (HELPDESK_LLM=local), checked sentence by sentence."
    if settings.llm_enabled:
        return f"Answers: written by the model at {settings.llm_base_url or 'the OpenAI API'}, checked."
    return (
        "Answers: the library's own sentences, cited (offline default). For answers written by a local model: "
        "make models && HELPDESK_LLM=local make run"
    )


def serve(settings: Settings) -> None:
    """Build the components and serve the UI (at /) and the JSON API (/api/...) on settings.host:port."""
    import uvicorn

    started = time.monotonic()
    sock = bind(settings.host, settings.port)
    with ExitStack() as stack:
        comps, loaded = start_components(settings, stack)
        app = create_app(comps)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        failed: list[BaseException] = []
        if isinstance(comps, LoadingComponents):  # they load while the workers start
            comps.when_loaded(lambda future: stop_on_error(future, server, failed))
            comps.start()
        loaded()
        if failed:  # known before the banner: say it instead
            raise failed[0]
        pool = comps.assistant.pool if isinstance(comps.assistant, PooledAssistant) else None
        answering = f"{pool.size} answering workers, {comps.settings.describe_store()}" if pool else "1 process"
        print(
            f"Policy Helpdesk Assistant on http://{settings.host}:{settings.port}  (JSON API: /api/ask; "
            f"{answering}; ready in {time.monotonic() - started:.1f} s)",
            flush=True,
        )
        print(answer_mode_line(comps.settings), flush=True)
        server.run(sockets=[sock])
        if failed:
            raise failed[0]


def stop_on_error(future: Future[Any], server: Any, failed: list[BaseException]) -> None:
    """When the server's own components could not load (a store that does not open), stop serving with the error."""
    exc = future.exception()
    if exc is not None:
        failed.append(exc)
        server.should_exit = True
