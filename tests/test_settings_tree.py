"""The nested settings tree: HELPDESK_<GROUP>__<FIELD> reaches the component build_components wires it into."""

from __future__ import annotations

import pytest

from bot.components import build_components
from bot.errors import SettingsInvalid
from bot.settings import load_settings
from tests.conftest import CORPUS, DEV_SET

DOCS = ["clusterfy-project-summary.md", "story-voucher-schemes-implementing-innovation-vouchers.md"]


def test_nested_variables_reach_the_components(monkeypatch: pytest.MonkeyPatch, real_embedder) -> None:
    monkeypatch.setenv("HELPDESK_RETRIEVAL__DENSE_K", "7")
    monkeypatch.setenv("HELPDESK_ASK__PASSAGES", "3")
    monkeypatch.setenv("HELPDESK_EXTRACTIVE__MAX_WORDS", "42")
    monkeypatch.setenv("HELPDESK_ANSWERABILITY__MIN_DENSE", "0.2")
    monkeypatch.setenv("HELPDESK_DRAFTING__SELECTOR__MAX_SENTENCES", "4")
    monkeypatch.setenv("HELPDESK_TRANSFER__RESULTS", "2")
    monkeypatch.setenv("HELPDESK_LIMITS__MAX_PDF_PAGES", "9")
    monkeypatch.setenv("HELPDESK_CHUNKING__CHUNK_OVERLAP", "40")
    comps = build_components(load_settings(), embedder=real_embedder, use_llm=False)
    assert comps.retriever.config.dense_k == 7
    assert comps.assistant.offline.config.max_words == 42
    assert comps.assistant.refusal.min_dense == 0.2
    assert comps.drafter.selector.config.max_sentences == 4
    assert comps.pipeline.limits.max_pdf_pages == 9
    assert comps.settings.max_pdf_pages == 9  # the flat alias reads the same value
    assert comps.pipeline.chunker.chunk_overlap == comps.settings.chunk_overlap == 40
    assert comps.settings.transfer.results == 2

    # the Assistant gives its answerer 3 passages, not the default 5
    assert comps.pipeline.run([CORPUS / d for d in DOCS], progress=False).failed == 0
    given: list[int] = []
    answer = comps.assistant.offline.answer

    def counting(question, passages, history):
        given.append(len(passages))
        return answer(question, passages, history)

    monkeypatch.setattr(comps.assistant.offline, "answer", counting)
    result = comps.assistant.ask("Who is the lead partner of ClusterFY?")
    assert given == [3] and result.citations and max(c.n for c in result.citations) <= 3


def test_flat_variables_keep_working_and_feed_the_nested_part(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_MAX_QUESTION_CHARS", "120")
    monkeypatch.setenv("HELPDESK_MAX_FILE_MB", "3")
    monkeypatch.setenv("HELPDESK_CHUNK_SIZE", "200")
    settings = load_settings()
    assert settings.chunk_size == settings.chunking.chunk_size == 200
    assert settings.max_question_chars == settings.ask.max_question_chars == 120
    assert settings.max_file_mb == settings.limits.max_file_mb == 3
    monkeypatch.setenv("HELPDESK_LIMITS__MAX_FILE_MB", "4")
    with pytest.raises(SettingsInvalid, match="HELPDESK_MAX_FILE_MB and HELPDESK_LIMITS__MAX_FILE_MB disagree"):
        load_settings()


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("HELPDESK_RETRIEVAL__DENSEK", "80", "HELPDESK_RETRIEVAL__DENSEK='80' is not valid (extra inputs"),
        ("HELPDESK_RETRIEVAL__DENSE_K", "many", "HELPDESK_RETRIEVAL__DENSE_K='many' is not valid (input should"),
        ("HELPDESK_DRAFTING__SELECTOR__MAX_WORDS", "0", "HELPDESK_DRAFTING__SELECTOR__MAX_WORDS='0' is not valid"),
        ("HELPDESK_ASK", "{passages: 3}", "HELPDESK_ASK is not valid (a group is set field by field"),
    ],
)
def test_a_bad_nested_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsInvalid) as err:
        load_settings()
    message = str(err.value)
    assert named in message and "\n" not in message and "Traceback" not in message


def test_a_preset_sets_defaults_and_an_explicit_variable_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_PRESET", "long-answers")
    monkeypatch.setenv("HELPDESK_EXTRACTIVE__MAX_WORDS", "50")
    settings = load_settings()
    assert (settings.extractive.max_sentences, settings.extractive.max_words) == (6, 50)
    assert settings.retrieval.lexical_k == 60  # groups the preset does not name keep their defaults
    assert load_settings(preset="dense-only").retrieval.lexical_k == 0
    monkeypatch.setenv("HELPDESK_PRESET", "fastest")
    with pytest.raises(SettingsInvalid, match="HELPDESK_PRESET='fastest' is not valid"):
        load_settings()


@pytest.mark.parametrize(
    "command", [["eval", "--questions", str(DEV_SET), "--out", "o"], ["bench", "query", "--out", "o"]]
)
def test_every_command_names_a_bad_group_setting_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """The commands that read the settings themselves (evals, benches) say what `load_settings` says."""
    from bot.cli import main

    monkeypatch.setenv("HELPDESK_RETRIEVAL", "dense_k=3")
    assert main(command) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "error: invalid setting: HELPDESK_RETRIEVAL is not valid (a group is set field by field: HELPDESK_RETRIEVAL__…)"
    )
