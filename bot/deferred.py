"""The server's components while they load in a background thread, so that the app serves meanwhile.

With answering workers (bot/workers.py) the server process answers no question itself: its own components
(llama-index, Chroma's client, the store and the retriever: about 3 s to import and open on this machine's
cores) are needed only by the page's load event, drafting, the Library tab and /api/health. So `serve`
builds the UI and starts answering through the workers first, and these load behind it. Whatever reads a
part that has not loaded yet waits for it; a load that failed raises its error there (and stops the app:
see bot.server.serve).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from threading import Thread
from typing import TYPE_CHECKING, Any

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.components import Components


class LoadingComponents:
    """`settings` and `assistant` at once; every other part of `Components` once `load` has returned it.

    `load` runs when `start()` is called, in a thread of its own.
    """

    def __init__(self, settings: Settings, assistant: Any, load: Callable[[], Components]) -> None:
        self.settings = settings
        self.assistant = assistant
        self._load = load
        self._future: Future[Components] = Future()

    def start(self) -> LoadingComponents:
        """Start loading in the background (call it once)."""
        if self._future.set_running_or_notify_cancel():
            Thread(target=self._run, name="helpdesk-components", daemon=True).start()
        return self

    def _run(self) -> None:
        try:
            self._future.set_result(self._load())
        except BaseException as exc:  # handed to whoever reads a part (and to serve, which stops the app)
            self._future.set_exception(exc)

    def when_loaded(self, callback: Callable[[Future[Components]], object]) -> None:
        """Call `callback(future)` once loading has finished, well or not."""
        self._future.add_done_callback(callback)

    def loaded(self, timeout: float | None = None) -> Components:
        """The components, waiting for them if need be (raises what loading raised)."""
        return self._future.result(timeout)

    def __getattr__(self, name: str) -> Any:  # only for names not set in __init__: the parts still loading
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.loaded(), name)
