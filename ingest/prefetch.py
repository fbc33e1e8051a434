"""PDFs read in a loader process of their own, one file ahead, while the pipeline embeds the ones before.

pypdf's text extraction is pure Python and a hostile or broken PDF can make it crash or take all the memory:
in the app's process (the Library tab) that would take every user's session down with it. So whenever a run
has PDFs to load, every file is loaded by one loader process, one ahead: a loader that dies (killed, out of
memory, a crash inside the parser) is pinned on that file, which fails with a clear reason, and a fresh loader
takes the next one. Meanwhile this process chunks, embeds and writes the file before: on the four shared policy
PDFs (699 pages, 35 s of extraction alone) this moved the extraction off the embedder's process, but did not
shorten the run measurably on 2 cores, which the embedder's two BLAS threads already keep busy. Runs of
Markdown, text and HTML only load here, as before (milliseconds a file).

Documents come back in plan order; errors are the loaders' own IngestErrors, unchanged.

As with any multiprocessing, a script that runs the pipeline must keep its top-level code under
`if __name__ == "__main__":` (the `helpdesk` command and app.py do). When no loader process can start, every
file is loaded in this process instead, as before this module existed.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import select
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from bot.errors import IngestError
from ingest.loaders import LoadedDocument, LoaderLimits, load_document
from ingest.sources import SourceFile

T = TypeVar("T")
log = logging.getLogger(__name__)
SLOW_SUFFIXES = (".pdf",)


def worth_a_process(sources: list[SourceFile]) -> bool:
    """True when a file to load is one the loader process is for (a PDF)."""
    return any(s.path.suffix.lower() in SLOW_SUFFIXES for s in sources)


def loaded_in_order(
    items: list[tuple[SourceFile, T]], limits: LoaderLimits, in_process: bool | None = None
) -> Iterator[tuple[SourceFile, T, LoadedDocument | IngestError]]:
    """(source, item, its document or the IngestError that loading it raised), in the order of `items`.

    `in_process`: load here (True) or one ahead in a loader process (False); None decides by `worth_a_process`.
    """
    sources = [s for s, _ in items]
    if in_process or (in_process is None and not worth_a_process(sources)):
        for source, item in items:
            yield source, item, _load_here(source, limits)
        return
    # forkserver: the loader starts from a small clean process, never a copy of this one and its threads (the
    # app's Library tab ingests inside a server with many)
    context = multiprocessing.get_context("forkserver")
    executor = _loader(context)
    try:
        started = executor.submit(os.getpid)
        ahead = _submit(executor, sources[0], limits)
        try:
            started.result()
        except BrokenProcessPool:  # no loader process can run here (see the module docstring)
            log.warning("loading files in this process: the loader process did not start")
            for source, item in items:
                yield source, item, _load_here(source, limits)
            return
        for i, (source, item) in enumerate(items):
            current = ahead
            if i + 1 < len(items):  # the next file loads while the caller works on this one
                ahead = _submit(executor, sources[i + 1], limits)
            try:
                yield source, item, current.result()
            except IngestError as err:
                yield source, item, err
            except BrokenProcessPool:  # the loader died on this file: the next one gets a fresh loader
                executor.shutdown(wait=False, cancel_futures=True)
                reason = "the loader process stopped while reading this file (a crash, or out of memory)"
                yield source, item, IngestError(source.path, reason)
                executor = _loader(context)
                if i + 1 < len(items):
                    ahead = _submit(executor, sources[i + 1], limits)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


def _loader(context: Any) -> ProcessPoolExecutor:
    """One loader process that ends with this one, however this one ends."""
    return ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_end_with, initargs=(os.getpid(),))


def _end_with(client: int) -> None:  # pragma: no cover - runs in the loader process
    """Exit when process `client` has ended.

    A process-pool worker waits on its task queue, whose write end it holds itself, so it never sees the
    client go; a client that ends without shutting the pool down (SIGKILL, `os._exit`) would leave the loader,
    and the fork server waiting on it, behind for good. Its parent is the fork server, so PR_SET_PDEATHSIG
    cannot tell either: a thread watches the client's pid instead.
    """

    def watch() -> None:
        try:
            fd = os.pidfd_open(client)
        except OSError:  # already gone
            os._exit(0)
        select.select([fd], [], [])  # readable when the process has ended
        os._exit(0)

    threading.Thread(target=watch, name="loader-client-watch", daemon=True).start()


def _submit(executor: ProcessPoolExecutor, source: SourceFile, limits: LoaderLimits) -> Future[LoadedDocument]:
    return executor.submit(load_document, source.path, source.root, limits)


def _load_here(source: SourceFile, limits: LoaderLimits) -> LoadedDocument | IngestError:
    try:
        return load_document(source.path, source.root, limits)
    except IngestError as err:
        return err
