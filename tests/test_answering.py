"""Grounded answers: filters, languages, limits, JSON shape, dedup/diversity, follow-ups, store faults."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bot.assistant import clean_question
from bot.components import build_components
from bot.conversation import condense, needs_context
from bot.errors import QuestionRejected, StoreUnavailable
from bot.retrieval import HybridRetriever, RetrievalConfig
from bot.settings import Settings
from bot.types import Chunk, Filters
from tests.servers import free_port

pytestmark = pytest.mark.slow


def test_country_doc_type_and_topic_filters_apply_inside_the_store(eval_components) -> None:
    assistant = eval_components.assistant
    question = "How do regions support clusters and innovation?"
    for filters, check in (
        (Filters(country="Italy"), lambda c: c.country == "Italy"),
        (Filters(doc_type="project_summary"), lambda c: c.doc_type == "project_summary"),
        (Filters(topic="clusters"), lambda c: "clusters" in c.topics),
    ):
        retrieval = eval_components.retriever.retrieve(question, k=10, filters=filters)
        assert retrieval.chunks, filters
        assert all(check(c) for c in retrieval.chunks + retrieval.dense + retrieval.lexical), filters
        answer = assistant.ask(question, filters=filters)
        assert all(check(c) for c in answer.chunks)
    unfiltered = {c.country for c in eval_components.retriever.retrieve(question, k=20).chunks}
    assert len(unfiltered) > 1


@pytest.mark.parametrize(
    "question",
    [
        "Wie groß konnten KMU-Innovationsgutscheine unter Horizont 2020 über Kaskadenfinanzierung sein?",
        "Quelle taille pouvaient atteindre les chèques innovation pour PME sous Horizon 2020 via le financement "
        "en cascade ?",
        pytest.param(
            "¿De qué cuantía podían ser los bonos de innovación para pymes en Horizonte 2020 mediante financiación "
            "en cascada?",
            marks=pytest.mark.xfail(
                reason="known limitation, measured: USE-multilingual ranks the long French/German NECP PDFs above "
                "the gold digest for this Spanish phrasing (gold not in the dense top 60); see README",
                strict=True,
            ),
        ),
        "Di che importo potevano essere i voucher per l'innovazione delle PMI in Orizzonte 2020 tramite "
        "finanziamento a cascata?",
    ],
)
def test_other_languages_retrieve_the_english_gold_document(eval_components, question: str) -> None:
    english = "How large could SME innovation vouchers be under Horizon 2020 through cascade funding projects?"
    gold = "news-innovation-vouchers-university-industry-collaboration"
    assert eval_components.retriever.retrieve(english, k=5).chunks[0].doc_id == gold
    top_docs = list(dict.fromkeys(c.doc_id for c in eval_components.retriever.retrieve(question, k=20).chunks))[:5]
    assert gold in top_docs


def test_question_limits_and_cleaning() -> None:
    for empty in ("", "   ", "\x00\x01\n"):
        with pytest.raises(QuestionRejected, match="Please type a question"):
            clean_question(empty, 4000)
    with pytest.raises(QuestionRejected, match=r"too long \(10,000 characters; the limit is 4,000\)"):
        clean_question("a" * 10_000, 4000)
    assert clean_question("What\x07 is\ud800 S3?", 4000) == "What is? S3?"
    with pytest.raises(QuestionRejected, match="must be text"):
        clean_question(None, 4000)


def test_refusal_lists_nearest_documents(eval_components) -> None:
    answer = eval_components.assistant.ask("What is the average salary of a cluster manager in Europe?")
    assert answer.refused and answer.citations == []
    assert "does not cover" in answer.text
    assert 1 <= len(answer.suggestions) <= 3 and all(s["title"] for s in answer.suggestions)


def test_ask_json_has_the_documented_fields(eval_settings, tmp_path) -> None:
    env = {
        "HELPDESK_CHROMA_PATH": str(eval_settings.chroma_path),
        "HELPDESK_COLLECTION": eval_settings.collection,
        "PATH": "/usr/bin:/bin",
    }
    cmd = [sys.executable, "-m", "bot.cli", "ask", "Who is the lead partner of ClusterFY?", "--json"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert {"text", "citations", "refused", "chunks", "timings"} <= set(data)
    assert set(data["citations"][0]) >= {
        "n",
        "doc_id",
        "title",
        "doc_type",
        "country",
        "region",
        "page",
        "section",
        "source_url",
        "quote",
    }
    assert data["citations"][0]["doc_id"] == "clusterfy-project-summary" and "MITA" in data["text"]
    assert "[1]" in data["text"] and data["refused"] is False


def test_unreachable_chroma_server_gives_a_clear_error(tmp_path) -> None:
    port = free_port()
    with pytest.raises(StoreUnavailable, match=f"cannot open the chroma server http://127.0.0.1:{port}"):
        build_components(Settings(chroma_host="127.0.0.1", chroma_port=port, chroma_path=tmp_path))
    env = {"HELPDESK_CHROMA_HOST": "127.0.0.1", "HELPDESK_CHROMA_PORT": str(port), "PATH": "/usr/bin:/bin"}
    res = subprocess.run(
        [sys.executable, "-m", "bot.cli", "status"], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert res.returncode == 2
    assert res.stderr.startswith(f"error: cannot open the chroma server http://127.0.0.1:{port}")
    assert "Traceback" not in res.stderr


def _chunk(cid: str, doc: str, text: str, score: float) -> Chunk:
    return Chunk(id=cid, text=text, doc_id=doc, score=score)


def test_fusion_removes_near_duplicates_and_caps_chunks_per_document() -> None:
    config = RetrievalConfig(max_per_doc=2)
    retriever = HybridRetriever(store=None, embed_query=lambda q: [0.0], config=config)  # type: ignore[arg-type]
    lexical = [
        _chunk("a1", "a", "Vouchers help SMEs buy services.", 9.0),
        _chunk("b1", "b", "Vouchers  help SMEs buy SERVICES.", 8.5),  # same text, another copy
        _chunk("a2", "a", "A second passage of a.", 8.0),
        _chunk("a3", "a", "A third passage of a.", 7.9),
        _chunk("c1", "c", "Clusters connect firms.", 5.0),
    ]
    fused = retriever.fuse(dense=[], lexical=lexical, k=10, dense_weight=0.25)
    assert [c.id for c in fused] == ["a1", "a2", "c1"]


def test_follow_up_heuristic_carries_the_subject() -> None:
    history = [
        {"role": "user", "content": "Tell me about C3-Saxony."},
        {"role": "assistant", "content": "C3-Saxony promotes cross-cluster collaboration in Saxony."},
    ]
    assert needs_context("Which two clusters does it connect?", history)
    assert condense("Which two clusters does it connect?", history) == (
        "Tell me about C3-Saxony. Which two clusters does it connect?"
    )
    standalone = "Which regional innovation clusters did Piedmont establish in its S3 areas?"
    assert not needs_context(standalone, history) and condense(standalone, history) == standalone
    assert not needs_context("Which two clusters does it connect?", [])


def test_k_sets_the_passages_of_every_stage(eval_components) -> None:
    """`helpdesk eval --k N` (AskConfig.passages) reaches the refusal step and the answerer, not only the prompt."""
    from bot.refusal import assess
    from bot.retrieval import Retrieval

    retriever, assistant = eval_components.retriever, eval_components.assistant
    question = "Who is the lead partner of ClusterFY?"
    retrieval = retriever.retrieve(question, k=20)
    gold = next(c for c in retrieval.chunks if "MITA" in c.text)
    others = [c for c in retrieval.chunks if "ClusterFY" not in c.embed_text() and "MITA" not in c.text][:6]
    assert len(others) == 6
    moved = Retrieval(query=question, chunks=[*others, gold], dense=retrieval.dense, lexical=retrieval.lexical)
    lexical = retriever.lexical_index
    near = assess(question, moved, lexical, assistant.refusal, passages=5)
    far = assess(question, moved, lexical, assistant.refusal, passages=7)
    assert not near.answerable and "clusterfi" in near.missing  # the stemmed term (Snowball: y → i)
    assert far.answerable and far.coverage > near.coverage
    draft = assistant.offline.answer(question, moved.chunks[:7], [])
    assert "[7]" in draft.text and "MITA" in draft.text

    assistant.config.passages = 1
    try:
        answer = assistant.ask(question)
    finally:
        assistant.config.passages = 5
    assert [c.n for c in answer.citations] == [1] and len({c.chunk_id for c in answer.citations}) == 1
