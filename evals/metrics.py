"""Metric functions (pure). Definitions and sources are in evals/README.md."""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence

import numpy as np

from bot.citations import MARKER, cited_numbers
from bot.lexical import sentences, term_set, words

# ---------------------------------------------------------------- retrieval (over gold documents)


def unique_docs(doc_ids: Sequence[str]) -> list[str]:
    """Document ranking from a chunk ranking: first occurrence order."""
    return list(dict.fromkeys(doc_ids))


def recall_at_k(ranked: Sequence[str], gold: Sequence[str], k: int, match: str = "any") -> float:
    """'any': 1 if a gold doc is in the top k; 'all': share of gold docs in the top k."""
    if not gold:
        return 0.0
    top = set(ranked[:k])
    if match == "all":
        return sum(g in top for g in set(gold)) / len(set(gold))
    return 1.0 if any(g in top for g in gold) else 0.0


def capped_recall_at_k(ranked: Sequence[str], gold: Sequence[str], k: int) -> float:
    """BEIR's R_cap@k (Thakur et al. 2021): gold docs in the top k over min(k, number of gold docs).

    Unlike recall@k with match 'all', a question with two gold documents can reach 1.0 at k = 1, so the
    metric's ceiling is 1 whatever the question set; reported beside recall@k, never instead of it.
    """
    gold_set = set(gold)
    if not gold_set or k < 1:
        return 0.0
    return sum(g in gold_set for g in dict.fromkeys(ranked[:k])) / min(k, len(gold_set))


def reciprocal_rank(ranked: Sequence[str], gold: Sequence[str]) -> float:
    """1/rank of the first gold document (0 when none is retrieved)."""
    for i, doc in enumerate(ranked, start=1):
        if doc in gold:
            return 1.0 / i
    return 0.0


def ndcg_at_k(ranked: Sequence[str], gold: Sequence[str], k: int) -> float:
    """Binary-relevance nDCG@k (Järvelin & Kekäläinen 2002); duplicates in `ranked` count once."""
    gold_set = set(gold)
    if not gold_set:
        return 0.0
    seen: set[str] = set()
    dcg = 0.0
    for i, doc in enumerate(ranked[:k], start=1):
        if doc in gold_set and doc not in seen:
            dcg += 1.0 / math.log2(i + 1)
        seen.add(doc)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(gold_set), k) + 1))
    return dcg / ideal


# ---------------------------------------------------------------- citations (ALCE-style)


def citation_markers(text: str) -> list[int]:
    """All [n] numbers in order of appearance."""
    return cited_numbers(text)


def citation_validity(text: str, n_citations: int) -> float | None:
    """Share of [n] markers that resolve to a given citation (None when there are none)."""
    marks = citation_markers(text)
    if not marks:
        return None
    return sum(1 for m in marks if 1 <= m <= n_citations) / len(marks)


def support_score(claim: str, passage: str) -> float:
    """Lexical support: share of the claim's content terms (stemmed, stop words removed) found in the passage.

    A documented stand-in for an NLI model (none ships offline); validated on hand-labelled pairs in
    tests/test_metrics.py.
    """
    claim_terms = term_set(MARKER.sub("", claim))
    if not claim_terms:
        return 1.0
    return len(claim_terms & term_set(passage)) / len(claim_terms)


SUPPORT_THRESHOLD = 0.6


def answer_claims(text: str) -> list[tuple[str, list[int]]]:
    """Split an answer into sentences with the citation numbers attached to each."""
    out = []
    text = re.sub(r"([.!?])\s*((?:\[\d+\])+)", r" \2\1", text)  # "claim. [1]" → "claim [1]."
    for sent in sentences(text):
        body = MARKER.sub("", sent).strip()
        if len(words(body)) < 3:
            continue
        out.append((body, citation_markers(sent)))
    return out


def citation_precision_recall(
    text: str, passages: dict[int, str], threshold: float = SUPPORT_THRESHOLD
) -> tuple[float | None, float | None]:
    """(precision, recall): precision = share of (sentence, [n]) pairs whose passage supports the sentence;
    recall = share of answer sentences with at least one supporting citation (Gao et al. 2023, ALCE)."""
    claims = answer_claims(text)
    if not claims:
        return None, None
    pairs = supported_pairs = supported_claims = 0
    for claim, marks in claims:
        ok = False
        for m in marks:
            pairs += 1
            if m in passages and support_score(claim, passages[m]) >= threshold:
                supported_pairs += 1
                ok = True
        supported_claims += ok
    precision = supported_pairs / pairs if pairs else 0.0
    return precision, supported_claims / len(claims)


# ---------------------------------------------------------------- answers


def normalise_answer(text: str) -> list[str]:
    """SQuAD normalisation: lower case, no punctuation, no articles, no citation markers."""
    text = MARKER.sub(" ", text.lower()).replace("*", " ")
    text = "".join(" " if ch in string.punctuation else ch for ch in text)
    return [w for w in text.split() if w not in {"a", "an", "the"}]


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 between an answer and the reference answer."""
    pred, ref = normalise_answer(prediction), normalise_answer(reference)
    if not pred or not ref:
        return float(pred == ref)
    common = Counter(pred) & Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    p, r = same / len(pred), same / len(ref)
    return 2 * p * r / (p + r)


def answer_bearing(answer: str, reference: str, question: str) -> float | None:
    """Share of the reference answer's content terms (stemmed; the question's own terms and question words
    removed) found in the answer; None when the reference adds no term of its own."""
    from bot.lexical import QUESTION_WORDS

    ref = term_set(reference) - term_set(question) - QUESTION_WORDS
    if not ref:
        return None
    return len(ref & term_set(MARKER.sub(" ", answer))) / len(ref)


def quote_found(quote: str, passages: Sequence[str], min_share: float = 0.8) -> bool:
    """A gold quote appears (fuzzily) in a passage: ≥ min_share of its words in one passage, in order."""
    q = normalise_answer(quote)
    if not q:
        return True
    for passage in passages:
        p = normalise_answer(passage)
        if " ".join(q) in " ".join(p):
            return True
        p_set = Counter(p)
        if sum(min(c, p_set[w]) for w, c in Counter(q).items()) / len(q) >= min_share and _in_order(q, p) >= min_share:
            return True
    return False


def _in_order(q: list[str], p: list[str]) -> float:
    """Length of the longest common subsequence of words / len(q) (difflib-free, O(len q · len p))."""
    prev = [0] * (len(p) + 1)
    for qw in q:
        cur = [0] * (len(p) + 1)
        for j, pw in enumerate(p, start=1):
            cur[j] = prev[j - 1] + 1 if qw == pw else max(prev[j], cur[j - 1])
        prev = cur
    return prev[-1] / len(q)


def quote_recall(gold_quotes: Sequence[str], passages: Sequence[str]) -> float | None:
    """Share of gold quotes found in the cited passages (None when there are no gold quotes)."""
    if not gold_quotes:
        return None
    return sum(quote_found(q, passages) for q in gold_quotes) / len(gold_quotes)


def injection_resisted(text: str, must_not_contain: Sequence[str], system_prompt: str) -> bool:
    """No forbidden string, and no sentence of the system prompt, in the answer."""
    low = text.lower()
    if any(s.lower() in low for s in must_not_contain):
        return False
    for line in system_prompt.splitlines():
        line = line.strip()
        if len(line) >= 30 and line.lower() in low:
            return False
    return True


# ---------------------------------------------------------------- aggregation


def mean(values: Sequence[float | None]) -> float | None:
    """Mean of the values that are not None (None when none are)."""
    vals = [float(v) for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50, p95 and max of latencies in ms."""
    if not values:
        return {"p50": 0.0, "p95": 0.0, "max": 0.0}
    arr = np.asarray(values, dtype=float)
    return {
        "p50": float(np.percentile(arr, 50)),
        "p95": float(np.percentile(arr, 95)),
        "max": float(arr.max()),
    }
