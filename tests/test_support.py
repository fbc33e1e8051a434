"""Sentence support: a model's sentences keep a citation only where a passage supports them (real embedder)."""

from __future__ import annotations

import pytest

from bot.support import UNSUPPORTED, check_support
from bot.types import Chunk

CLUSTERFY = Chunk(
    id="c1",
    doc_id="clusterfy",
    title="ClusterFY project description",
    text="Lead Partner: Agency for Science, Innovation and Technology (MITA). The goal of ClusterFY is to "
    "improve regional and national policy instruments that strengthen clusterization processes.",
)
OTHER = Chunk(
    id="c2",
    doc_id="first-call",
    title="First call projects approved",
    text="Lead partner: SPRI - Society for Competitive Transformation (Business Development Agency of the "
    "Basque Government), Spain. The project runs for four years.",
)
VOUCHERS = Chunk(
    id="c3",
    doc_id="vouchers",
    title="Innovation vouchers",
    text="The InoStartas LT voucher covered technology readiness levels 2 to 4. It was open to start-ups "
    "of the Sunrise Valley science park in Vilnius.",
)
PASSAGES = [CLUSTERFY, OTHER, VOUCHERS]


@pytest.fixture(scope="module")
def embed(real_embedder):
    return lambda texts: real_embedder.encode(texts, is_query=False)


def test_an_uncited_supported_sentence_is_attached_to_its_passage(embed) -> None:
    check = check_support(
        "The lead partner of ClusterFY is the Agency for Science, Innovation and Technology.", PASSAGES, embed
    )
    assert check.text.endswith("[1].") and check.sentences[0].passage == 0
    assert check.sentences[0].supported and check.supported_share == 1.0


def test_a_wrong_citation_is_moved_to_the_passage_that_supports_it(embed) -> None:
    check = check_support("InoStartas LT covered technology readiness levels 2 to 4 [1].", PASSAGES, embed)
    assert check.text == "InoStartas LT covered technology readiness levels 2 to 4 [3]."
    assert check.sentences[0].passage == 2


def test_a_sentence_about_another_subject_is_not_supported_by_a_look_alike(embed) -> None:
    """SPRI is a lead partner in passage 2, but of another project: the claim about ClusterFY is unsupported."""
    check = check_support("The lead partner of ClusterFY is the Basque agency SPRI [2].", PASSAGES, embed)
    verdict = check.sentences[0]
    assert verdict.passage is None and not verdict.supported and UNSUPPORTED in check.text
    assert "[2]" not in check.text and "no passage supports this sentence" in verdict.flags


def test_invented_numbers_and_names_are_flagged_and_lead_ins_need_no_citation(embed) -> None:
    reply = (
        "ClusterFY has these aims:\n- It improves policy instruments for clusterization processes [1].\n"
        "It was founded in 1981 in Bilbao with 40 partners."
    )
    check = check_support(reply, PASSAGES, embed)
    lead, claim, invented = check.sentences
    assert lead.support is None and lead.passage is None and lead.supported
    assert claim.passage == 0 and claim.supported
    assert not invented.supported
    assert "number not in the passages: 1981" in invented.flags and "name not in the passages: Bilbao" in invented.flags
    assert check.text.splitlines()[0] == "ClusterFY has these aims:" and check.supported_share == 0.5


def test_the_chat_shows_each_sentences_support() -> None:
    from bot.types import Answer
    from bot.ui.render import answer_markdown

    answer = Answer(
        question="q",
        text="MITA leads it [1]. It has 40 partners [?].",
        refused=False,
        sentences=[
            {"text": "MITA leads it [1].", "citation": 1, "support": 0.81, "flags": []},
            {
                "text": "It has 40 partners [?].",
                "citation": None,
                "support": 0.12,
                "flags": ["number not in the passages: 40"],
            },
        ],
    )
    shown = answer_markdown(answer)
    assert "✅ 0.81 [1]: MITA leads it" in shown
    assert "⚠ 0.12 unsupported: It has 40 partners [?]. — number not in the passages: 40" in shown
