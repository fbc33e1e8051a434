"""The local reader end to end: llama.cpp's server with the real 1.5B model, started by the composition root."""

from __future__ import annotations

import re

import pytest

from bot.components import build_components
from bot.local_model import is_installed

pytestmark = [pytest.mark.llm, pytest.mark.slow]


@pytest.fixture(scope="module")
def local_components(eval_settings, real_embedder):
    if not is_installed():
        pytest.skip("the local model is not installed (make models; make test installs it)")
    settings = eval_settings.model_copy(update={"llm": "local", "llm_timeout": 180.0})
    comps = build_components(settings, embedder=real_embedder)
    comps.assistant.warm_up()
    yield comps
    comps.close()
    assert comps.local_server is not None and comps.local_server.proc is None


def test_the_local_model_streams_a_cited_answer_whose_sentences_are_checked(local_components) -> None:
    partials = list(local_components.assistant.ask_stream("Who is the lead partner of ClusterFY?"))
    final = partials[-1]
    assert len(partials) >= 3 and final.backend == "llm" and final.notice == ""
    assert not final.refused and "MITA" in final.text
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", final.text)}
    assert markers and markers == {c.n for c in final.citations}
    assert any(c.doc_id == "clusterfy-project-summary" for c in final.citations)
    claims = [s for s in final.sentences if s["support"] is not None]
    assert claims, final.sentences
    for s in claims:  # every claim is supported by the passage it cites, or flagged
        assert (s["citation"] is not None and s["support"] >= 0.5) or "no passage supports this sentence" in s["flags"]


def test_the_local_path_refuses_what_the_library_does_not_hold(local_components) -> None:
    answer = local_components.assistant.ask("What is the capital of Australia and how many people live there?")
    assert answer.refused and answer.citations == [] and answer.outcome == "not_covered"
