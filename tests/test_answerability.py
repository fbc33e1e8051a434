"""Answerability (issue 12): sentence-level evidence, three outcomes, leave-gold-out negatives, folds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.answer_types import DATE, NUMBER, expected_type, has_type
from bot.components import build_components
from bot.conversation import condense
from bot.evidence import FEATURES, asked_part, gather
from bot.models import OfflineEmbedding
from bot.prompts import EMPTY_LIBRARY_TEXT
from bot.refusal import AnswerabilityModel
from bot.retrieval import LexicalIndex, Retrieval
from bot.settings import Settings
from bot.types import Answer, Chunk
from bot.ui.render import answer_markdown
from evals.calibrate import cross_validate, fold_of
from evals.dataset import EvalQuestion
from evals.metrics import answer_bearing
from evals.runner import group_of, leave_gold_out
from tests.conftest import copy_subset


def _chunk(cid: str, doc: str, title: str, text: str) -> Chunk:
    return Chunk(id=cid, doc_id=doc, title=title, text=text, score=1.0)


def test_expected_answer_types_and_a_year_is_not_an_amount() -> None:
    assert expected_type("How many projects were approved?") == NUMBER
    assert expected_type("What is the budget of the programme?") == NUMBER
    assert expected_type("When was the platform launched?") == DATE
    assert expected_type("What does the strategy foresee?") is None
    assert has_type("The programme has 359 million euros.", NUMBER)
    assert not has_type("The programme runs in 2021-2027 for all regions.", NUMBER)
    assert has_type("It was launched in October 2016.", DATE)


def test_the_asking_sentence_is_the_focus_and_context_weighs_less() -> None:
    q = "Our region wants to encourage SMEs to work with universities. Which voucher schemes could inspire us?"
    assert asked_part(q) == "Which voucher schemes could inspire us?"
    assert asked_part("Who leads ClusterFY?") == "Who leads ClusterFY?"


def test_the_quoted_sentence_must_be_about_the_question_subject() -> None:
    """ "Who is the lead partner of ClusterFY?" with the ClusterFY summary gone: other projects' lead partners
    and a sentence merely naming ClusterFY are not an answer (subject feature 0); with it, 1."""
    other = _chunk(
        "c1",
        "reply",
        "Clusters reply",
        "ClusterFY focuses on key enabling technologies. The lead partner of STRING is the Region of Hamburg.",
    )
    summary = _chunk("c2", "clusterfy", "ClusterFY project summary", "Lead Partner: Agency for Science (MITA).")
    lexical = LexicalIndex([other, summary])
    q = "Who is the lead partner of ClusterFY?"
    hidden = Retrieval(query=q, chunks=[other], excluded=frozenset({"clusterfy"}))
    shown = Retrieval(query=q, chunks=[summary, other])
    assert gather(q, hidden, lexical, None).features["subject"] == 0.0
    assert gather(q, shown, lexical, None).features["subject"] == 1.0


def test_hidden_documents_are_unknown_to_the_lexical_evidence() -> None:
    a = _chunk("a", "doc-a", "Silesia", "Silesia coal transition.")
    b = _chunk("b", "doc-b", "Vouchers", "Innovation vouchers for SMEs.")
    lexical = LexicalIndex([a, b])
    assert lexical.known_without("silesia", frozenset()) and not lexical.known_without("silesia", frozenset({"doc-a"}))
    assert lexical.exclusion_mask(frozenset({"doc-a"})).tolist() == [False, True]
    q = "How much money does the fund give to Silesia?"
    ev = gather(q, Retrieval(query=q, chunks=[b], excluded=frozenset({"doc-a"})), lexical, None)
    assert ev.features["unknown_name"] == 1.0 and ev.unknown_names == ["Silesia"]


def test_three_outcomes_from_the_model_thresholds() -> None:
    model = AnswerabilityModel(
        features=("coverage",), mean=[0.0], scale=[1.0], coef=[1.0], intercept=0.0, refuse_below=0.3, caution_below=0.6
    )
    assert model.outcome(0.1) == "not_covered" and model.outcome(0.5) == "caution" and model.outcome(0.9) == "answered"


def test_caution_is_shown_with_the_nearest_documents() -> None:
    answer = Answer(
        question="q",
        text="A partial fact [1].",
        outcome="caution",
        suggestions=[{"doc_id": "d", "title": "Voucher brief", "source_url": "https://example.org/v"}],
    )
    text = answer_markdown(answer)
    assert "Partly covered" in text and "Voucher brief" in text and "#src-1" in text


def test_follow_ups_keep_their_subject_after_a_refused_turn() -> None:
    history = [
        {"role": "user", "content": "Tell me about C3-Saxony."},
        {"role": "assistant", "content": "The library does not cover this question."},
        {"role": "user", "content": "Which two clusters does it connect?"},
        {"role": "assistant", "content": "The library only partly covers this question."},
    ]
    assert "C3-Saxony" in condense("And what inspired that?", history)


def test_leave_gold_out_twins_share_the_fold_of_their_question() -> None:
    qs = [EvalQuestion(id=f"q{i}", question=f"question {i}", gold_doc_ids=[f"d{i}"]) for i in range(12)]
    qs.append(EvalQuestion(id="u", question="unanswerable", type="unanswerable"))
    twins = leave_gold_out(qs)
    assert len(twins) == 12 and twins[0][0].type == "leave_gold_out" and twins[0][1] == frozenset({"d0"})
    ids = [q.id for q in qs] + [t.id for t, _ in twins]
    folds = fold_of([group_of(i) for i in ids], 4)
    assert all(folds[group_of(t.id)] == folds[t.id.removesuffix("~lgo")] for t, _ in twins)


def test_cross_validation_reports_held_out_outcomes_per_kind() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(30):
        for kind, base in (("factoid", 0.8), ("leave_gold_out", 0.2)):
            f = {name: float(np.clip(base + rng.normal(0, 0.1), 0, 1)) for name in FEATURES}
            rows.append(
                {
                    "id": f"q{i}" + ("~lgo" if kind == "leave_gold_out" else ""),
                    "type": kind,
                    "gold_doc_ids": ["d"] if kind == "factoid" else [],
                    "features": f,
                }
            )
    cv = cross_validate(rows, 5)
    assert cv["outcomes"]["answerable"]["n"] == 30 and cv["outcomes"]["leave_gold_out"]["n"] == 30
    assert cv["answerable_refused"] <= 0.1 and cv["leave_gold_out_refused"] >= 0.9
    assert all("cv_outcome" in r for r in rows)


def test_answer_bearing_counts_the_reference_words_beyond_the_question() -> None:
    q = "How many projects were approved in the first call?"
    assert answer_bearing("In the first call 64 projects were approved [1].", "64 projects of 261", q) == 0.5
    assert answer_bearing("anything", "the first call", q) is None


@pytest.fixture(scope="module")
def slice_components(real_embedder: OfflineEmbedding, tmp_path_factory: pytest.TempPathFactory):
    root: Path = tmp_path_factory.mktemp("answerability")
    library = copy_subset(root / "library")
    settings = Settings(chroma_path=root / "index", corpus_dir=library, collection="ans")
    comps = build_components(settings, embedder=real_embedder, use_llm=False)
    assert comps.pipeline.run([library], progress=False).failed == 0
    comps.assistant.warm_up()
    return comps


def test_clusterfy_lead_partner_is_not_answered_from_other_projects(slice_components) -> None:
    assistant = slice_components.assistant
    q = "Who is the lead partner of ClusterFY?"
    shown = assistant.ask(q)
    assert shown.outcome == "answered" and shown.citations[0].doc_id == "clusterfy-project-summary"
    hidden = assistant.ask(q, exclude=frozenset({"clusterfy-project-summary"}))
    assert hidden.refused and hidden.outcome == "not_covered" and hidden.suggestions
    assert all(c.doc_id != "clusterfy-project-summary" for c in hidden.chunks)


def test_an_empty_library_says_so_and_how_to_fill_it(real_embedder: OfflineEmbedding, tmp_path: Path) -> None:
    comps = build_components(Settings(chroma_path=tmp_path / "empty", collection="empty"), embedder=real_embedder)
    answer = comps.assistant.ask("How did regions use innovation vouchers?")
    assert answer.refused and answer.outcome == "empty" and answer.text == EMPTY_LIBRARY_TEXT
    assert "Library tab" in answer.text and "helpdesk ingest" in answer.text
    assert "library is empty" in answer_markdown(answer)
