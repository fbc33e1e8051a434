"""Answerability: does the evidence retrieved actually contain what the question asks about?

One similarity cut-off does not generalise (measured: AUC 0.86 on dev fell to 0.64 on held-out questions).
The decision combines evidence that transfers across questions:
- key-term coverage: the share (idf-weighted) of the question's content terms, question words removed,
  found in the single best of the top passages; terms the library never uses weigh heavily;
- named entities: a proper name or acronym of the question that the library never mentions ("Silesia",
  "EIC") means the library is not about it;
- years: a year asked about (2022) that no top passage mentions means the specific fact is missing;
- for questions not in English (lexical terms cannot match English passages), the dense similarity of
  the best passage, whose multilingual model was measured to find every non-English gold document;
- (recorded, not decisive) whether the lexical and dense rankings agree on the top document: on dev it let
  an unanswerable question through and rescued none, so it is kept for diagnosis only.
Thresholds are calibrated on shared/evals/dev.jsonl (see evals/README.md, "Refusal calibration").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.lexical import QUESTION_WORDS, guess_language, proper_names, terms
from bot.retrieval import LexicalIndex, Retrieval

UNKNOWN_TERM_IDF = 9.0


@dataclass
class RefusalConfig:
    """Calibrated thresholds."""

    min_coverage: float = 0.5
    min_dense_foreign: float = 0.38
    min_dense: float = 0.15


@dataclass
class Evidence:
    """The features behind one decision (kept in eval results to explain refusals)."""

    coverage: float
    dense_top: float
    agree: bool
    language: str
    missing: list[str] = field(default_factory=list)
    answerable: bool = True
    reason: str = ""


def key_terms(question: str) -> list[str]:
    """Content terms of the question without question words, in order, deduplicated."""
    return [t for t in dict.fromkeys(terms(question)) if t not in QUESTION_WORDS]


def assess(
    question: str, retrieval: Retrieval, lexical: LexicalIndex, config: RefusalConfig, passages: int = 5
) -> Evidence:
    """Decide whether the top `passages` retrieved passages (those the answerer sees) can answer the question."""
    q_terms = key_terms(question)
    idf = {t: (lexical.idf(t) if t in lexical.df else UNKNOWN_TERM_IDF) for t in q_terms}
    total = sum(idf.values()) or 1.0
    best, missing = 0.0, list(q_terms)
    for chunk in retrieval.chunks[:passages]:
        present = lexical.terms_of(chunk)
        cov = sum(w for t, w in idf.items() if t in present) / total
        if cov > best:
            best, missing = cov, [t for t in q_terms if t not in present]
    dense_top = retrieval.dense[0].score if retrieval.dense else 0.0
    lex_docs = [c.doc_id for c in retrieval.lexical[:5]]
    dense_docs = [c.doc_id for c in retrieval.dense[:5]]
    agree = bool(
        (retrieval.dense and retrieval.dense[0].doc_id in lex_docs)
        or (retrieval.lexical and retrieval.lexical[0].doc_id in dense_docs)
    )
    language = guess_language(question)
    ev = Evidence(coverage=best, dense_top=dense_top, agree=agree, language=language, missing=missing)
    unknown_names = [n for n in proper_names(question) if (ts := terms(n)) and all(t not in lexical.df for t in ts)]
    top_text = " ".join(f"{c.embed_text()} {c.published}" for c in retrieval.chunks[:passages])
    missing_years = [y for y in re.findall(r"\b(?:19|20)\d\d\b", question) if y not in top_text]
    if not retrieval.chunks:
        ev.answerable, ev.reason = False, "nothing retrieved"
    elif dense_top < config.min_dense:
        ev.answerable, ev.reason = False, f"best passage similarity {dense_top:.2f} too low"
    elif language == "en" and unknown_names:
        ev.answerable, ev.reason = False, f"the library never mentions {', '.join(unknown_names[:3])}"
    elif language == "en" and missing_years:
        ev.answerable, ev.reason = False, f"no passage mentions {', '.join(missing_years)}"
    elif language != "en":
        ev.answerable = dense_top >= config.min_dense_foreign or best >= config.min_coverage
        ev.reason = f"{language} question: dense similarity {dense_top:.2f}"
    elif best >= config.min_coverage:
        ev.reason = f"key-term coverage {best:.2f}"
    else:
        ev.answerable = False
        ev.reason = f"key terms not found in the library: {', '.join(missing[:5])}"
    return ev
