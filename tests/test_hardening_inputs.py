"""Malformed requests get a 4xx with a sentence; odd text is cleaned before it is echoed (issue 11)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client

from bot.components import build_components
from bot.server import create_app
from bot.settings import Settings
from evals.bench_load import serve_in_thread
from tests.conftest import CORPUS, clear_helpdesk_env
from tests.servers import free_port

DOCS = ["clusterfy-project-summary.md", "story-voucher-schemes-implementing-innovation-vouchers.md"]


@pytest.fixture(scope="module")
def app_url(real_embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The whole app (JSON API + Gradio) over a two-document index, on a free loopback port."""
    with pytest.MonkeyPatch.context() as mp:
        clear_helpdesk_env(mp)
        root = tmp_path_factory.mktemp("inputs")
        settings = Settings(chroma_path=root / "index", collection="inputs-test", corpus_dir=root / "library")
        comps = build_components(settings, embedder=real_embedder, use_llm=False)
        assert comps.pipeline.run([CORPUS / d for d in DOCS], progress=False).failed == 0
        comps.assistant.warm_up()
        port = free_port()
        server = serve_in_thread(create_app(comps), port)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True


def a_sentence(message: str) -> bool:
    """Readable by a person: one line, no URL to a validation library, no traceback, not empty."""
    return bool(message) and "\n" not in message and "http" not in message and "Traceback" not in message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"question": 1e999999}', "must be text"),
        ('{"question": NaN}', "must be text"),
        ('{"question": -Infinity}', "must be text"),
        ('{"question": {"$ne": 1}}', "must be text"),
        ("{this is not json", "not valid JSON"),
        ("{}", 'no "question"'),
        ("[1, 2]", "JSON object"),
        ('{"question": "Who leads ClusterFY?", "filters": ["country"]}', "filters must be"),
        ('{"question": "Who leads ClusterFY?", "filters": {"country": {"$ne": 1}}}', 'filter "country" must be text'),
        ('{"question": "Who leads ClusterFY?", "filters": {"colour": "red"}}', "Unknown filter 'colour'"),
        ('{"question": "Who leads ClusterFY?", "history": "yesterday"}', "history must be"),
        ('{"question": "Who leads ClusterFY?", "history": [{"role": "user", "content": 1e999}]}', "history message"),
    ],
)
def test_a_malformed_api_request_gets_a_422_with_a_sentence(app_url: str, body: str, expected: str) -> None:
    res = httpx.post(f"{app_url}/api/ask", content=body, headers={"Content-Type": "application/json"}, timeout=60)
    assert res.status_code == 422, res.text
    assert expected in res.json()["error"]
    assert a_sentence(res.json()["error"])


def test_lone_surrogates_and_controls_in_the_api_are_cleaned(app_url: str) -> None:
    body = (
        '{"question": "\\ud800Who is the lead partner of ClusterFY?\\u0007",'
        ' "history": [{"role": "user", "content": "vouchers \\udfff"}], "filters": {"country": "\\ud800"}}'
    )
    res = httpx.post(f"{app_url}/api/ask", content=body, headers={"Content-Type": "application/json"}, timeout=60)
    assert res.status_code == 200, res.text
    answer: dict[str, Any] = res.json()
    assert "\ud800" not in answer["question"] and "\x07" not in answer["question"]


def test_gradio_ask_with_filters_of_the_wrong_shape_says_what_is_expected(app_url: str) -> None:
    client = Client(f"{app_url}/", verbose=False)
    for filters, expected in [
        ('["country"]', "The filters must be an object"),
        ('{"country": {"$ne": 1}}', 'The filter "country" must be text'),
        ("{not json", "The filters must be a JSON object"),
    ]:
        answer_md, citations = client.predict("Who is the lead partner of ClusterFY?", "[]", filters, api_name="/ask")
        assert answer_md.startswith("⚠️") and expected in answer_md, answer_md
        assert "pydantic" not in answer_md and "http" not in answer_md and citations == "[]"
    # gradio_client cannot even encode a lone surrogate: send the JSON escape as a browser script could
    call = httpx.post(
        f"{app_url}/gradio_api/call/ask",
        content='{"data": ["\\ud800\\u0007", "[]", "{}"]}',
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert call.status_code == 200, call.text
    result = httpx.get(f"{app_url}/gradio_api/call/ask/{call.json()['event_id']}", timeout=60).text
    assert "event: complete" in result and "Please type a question" in result, result
    answer_md, _ = client.predict("Who is the lead partner of ClusterFY?", "[]", '{"country": null}', api_name="/ask")
    assert "MITA" in answer_md


def test_settings_validation_is_one_line(tmp_path: Path) -> None:
    from bot.errors import SettingsInvalid
    from bot.settings import load_settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HELPDESK_MAX_FILE_MB", "abc")
        mp.setenv("HELPDESK_CHROMA_TIMEOUT", "-1")
        with pytest.raises(SettingsInvalid) as err:
            load_settings()
    message = str(err.value)
    assert "HELPDESK_MAX_FILE_MB='abc'" in message and "HELPDESK_CHROMA_TIMEOUT='-1'" in message
    assert a_sentence(message)
