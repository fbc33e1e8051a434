"""LoadingComponents (bot/deferred.py): what is ready is served at once, the rest waits, a failed load is raised."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from bot.deferred import LoadingComponents
from bot.errors import IndexMismatch
from bot.settings import Settings


def test_parts_wait_for_the_load_while_settings_and_assistant_are_there_at_once() -> None:
    release = threading.Event()

    def load() -> SimpleNamespace:
        release.wait(10)
        return SimpleNamespace(store="the store", settings="not these")

    settings = Settings()
    comps = LoadingComponents(settings, "pooled assistant", load).start()
    assert comps.settings is settings and comps.assistant == "pooled assistant"  # no waiting
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(comps.store))
    reader.start()
    time.sleep(0.3)
    assert got == []  # still loading: the reader waits
    release.set()
    reader.join(10)
    assert got == ["the store"] and comps.loaded().store == "the store"


def test_a_failed_load_is_raised_wherever_a_part_is_read_and_reported_once() -> None:
    def load() -> SimpleNamespace:
        raise IndexMismatch("the index was built with another embedding model")

    seen: list[BaseException | None] = []
    comps = LoadingComponents(Settings(), None, load)
    comps.when_loaded(lambda future: seen.append(future.exception()))
    comps.start()
    with pytest.raises(IndexMismatch, match="another embedding model"):
        _ = comps.retriever
    with pytest.raises(IndexMismatch):
        comps.loaded()
    assert len(seen) == 1 and isinstance(seen[0], IndexMismatch)
    with pytest.raises(AttributeError):
        _ = comps._private  # never waits for private names (copy, pickle and hasattr probe them)
