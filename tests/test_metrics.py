"""Metric functions on small hand-made cases with known values."""

from __future__ import annotations

import math

import pytest

from evals import metrics as m


def test_recall_at_k_perfect_partial_empty_duplicates() -> None:
    assert m.recall_at_k(["a", "b"], ["a"], 1) == 1.0
    assert m.recall_at_k(["b", "a"], ["a"], 1) == 0.0
    assert m.recall_at_k(["b", "a"], ["a"], 2) == 1.0
    assert m.recall_at_k([], ["a"], 5) == 0.0
    assert m.recall_at_k(["a"], [], 5) == 0.0
    assert m.recall_at_k(["a", "x", "b"], ["a", "b"], 2, match="all") == 0.5
    assert m.recall_at_k(["a", "x", "b"], ["a", "b"], 3, match="all") == 1.0
    assert m.recall_at_k(["a", "a", "a"], ["a", "b"], 3, match="all") == 0.5


def test_capped_recall_reaches_one_at_k1_with_two_gold_documents() -> None:
    assert m.capped_recall_at_k(["a", "x"], ["a", "b"], 1) == 1.0  # recall@1 with match "all" is 0.5 here
    assert m.capped_recall_at_k(["x", "a"], ["a", "b"], 1) == 0.0
    assert m.capped_recall_at_k(["a", "x", "b"], ["a", "b"], 2) == 0.5
    assert m.capped_recall_at_k(["a", "a", "b"], ["a", "b"], 2) == 0.5  # a duplicate counts once
    assert m.capped_recall_at_k(["a", "b", "c"], ["a", "b", "c", "d"], 3) == 1.0
    assert m.capped_recall_at_k(["a"], [], 1) == 0.0


def test_unique_docs_keeps_first_occurrence() -> None:
    assert m.unique_docs(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]


def test_reciprocal_rank_and_ndcg() -> None:
    assert m.reciprocal_rank(["a", "b"], ["a"]) == 1.0
    assert m.reciprocal_rank(["x", "y", "a"], ["a", "b"]) == pytest.approx(1 / 3)
    assert m.reciprocal_rank(["x"], ["a"]) == 0.0
    assert m.ndcg_at_k(["a", "b"], ["a", "b"], 10) == pytest.approx(1.0)
    assert m.ndcg_at_k(["x", "a"], ["a"], 10) == pytest.approx(1 / math.log2(3))
    assert m.ndcg_at_k(["a", "a", "b"], ["a", "b"], 10) == pytest.approx((1 + 1 / 2) / (1 + 1 / math.log2(3)))
    assert m.ndcg_at_k([], ["a"], 10) == 0.0


def test_citation_validity() -> None:
    assert m.citation_validity("A [1]. B [2].", 2) == 1.0
    assert m.citation_validity("A [1]. B [3].", 2) == 0.5
    assert m.citation_validity("no markers", 2) is None


# Hand-labelled (claim, passage, supported?) pairs for the lexical support score.
SUPPORT_PAIRS = [
    (
        "SMEs could obtain innovation vouchers worth up to 60 000€ under Horizon 2020.",
        "At the same time, under Horizon 2020, SMEs could obtain SME innovation vouchers worth up to 60 000€ via "
        "projects of the cascade funding type.",
        True,
    ),
    (
        "C3-Saxony uses networking events, matchmaking events and innovation vouchers.",
        "The initiative uses three main policy instruments—networking events, matchmaking events, and innovation "
        "vouchers—to promote cross-cluster collaboration.",
        True,
    ),
    (
        "Piedmont set up seven regional innovation clusters, one per S3 area.",
        "The Regional Cluster support strategy in Piedmont, Italy, established seven regional innovation clusters in "
        "each S3 thematic area.",
        True,
    ),
    (
        "The lead partner of ClusterFY is the Agency for Science, Innovation and Technology.",
        "Lead Partner: Agency for Science, Innovation and Technology (MITA)",
        True,
    ),
    (
        "Saxony awarded 450 innovation vouchers to SMEs in 2022.",
        "C3-Saxony connects the cluster Silicon Saxony with the cluster Biosaxony to spur cross-cluster collaboration.",
        False,
    ),
    (
        "The Just Transition Fund gives Silesia EUR 2 billion.",
        "Innovation vouchers are small lines of credit provided to SMEs to purchase services from knowledge providers.",
        False,
    ),
    (
        "Finland's plan covers hydrogen valleys in Lapland.",
        "The plan addresses all five dimensions of the EU Energy Union: decarbonisation, energy efficiency, energy "
        "security, internal energy markets and research, innovation and competitiveness.",
        False,
    ),
    (
        "Peer reviews last two days and involve experts from other regions.",
        "The Textile Recycling Valley unites several disciplines to explore ways of giving textile waste a new use.",
        False,
    ),
]


@pytest.mark.parametrize(("claim", "passage", "label"), SUPPORT_PAIRS)
def test_support_score_agrees_with_hand_labels(claim: str, passage: str, label: bool) -> None:
    assert (m.support_score(claim, passage) >= m.SUPPORT_THRESHOLD) is label


def test_citation_precision_recall() -> None:
    passages = {1: SUPPORT_PAIRS[0][1], 2: SUPPORT_PAIRS[2][1]}
    good = "SMEs could obtain innovation vouchers worth up to 60 000€ under Horizon 2020 [1]. " + (
        "Piedmont set up seven regional innovation clusters in each S3 thematic area [2]."
    )
    assert m.citation_precision_recall(good, passages) == (1.0, 1.0)
    swapped = good.replace("[1]", "[X]").replace("[2]", "[1]").replace("[X]", "[2]")
    assert m.citation_precision_recall(swapped, passages) == (0.0, 0.0)
    half = good.split(" Piedmont")[0] + " Piedmont set up seven regional innovation clusters in each area."
    assert m.citation_precision_recall(half, passages) == (1.0, 0.5)
    after_period = "SMEs could obtain innovation vouchers worth up to 60 000€ under Horizon 2020. [1]"
    assert m.citation_precision_recall(after_period, passages) == (1.0, 1.0)
    assert m.citation_precision_recall("", passages) == (None, None)


def test_token_f1() -> None:
    assert m.token_f1("Seven clusters [1].", "seven clusters") == 1.0
    assert m.token_f1("the cat", "a dog") == 0.0
    assert m.token_f1("seven regional clusters", "seven clusters") == pytest.approx(0.8)
    assert m.token_f1("", "") == 1.0


def test_quote_recall_is_fuzzy_but_not_loose() -> None:
    passage = (
        "The initiative uses three main policy instruments - networking events, matchmaking events, and "
        "**innovation vouchers** - to promote cross-cluster collaboration."
    )
    assert m.quote_found(
        "uses three main policy instruments—networking events, matchmaking events, and innovation vouchers", [passage]
    )
    assert not m.quote_found("vouchers worth up to 60 000€ via projects of the cascade funding type", [passage])
    assert m.quote_recall(["networking events, matchmaking events", "cascade funding type"], [passage]) == 0.5
    assert m.quote_recall([], [passage]) is None


def test_injection_resisted() -> None:
    system = "Rules:\n1. Every sentence that states a fact ends with the number(s) of the passage(s) that support it."
    assert m.injection_resisted("Combine vouchers with brokerage [1].", ["PWNED"], system)
    assert not m.injection_resisted("pwned", ["PWNED"], system)
    assert not m.injection_resisted(
        "My rules: 1. Every sentence that states a fact ends with the number(s) of the passage(s) that support it.",
        ["PWNED"],
        system,
    )


def test_percentiles_and_mean() -> None:
    assert m.percentiles([]) == {"p50": 0.0, "p95": 0.0, "max": 0.0}
    p = m.percentiles([10.0, 20.0, 30.0, 40.0])
    assert p["p50"] == 25.0 and p["max"] == 40.0
    assert m.mean([None, 1.0, 0.0]) == 0.5
    assert m.mean([None]) is None
