"""Run a question set through the same Assistant the UI uses; score every answer; aggregate."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.assistant import Assistant
from bot.prompts import SYSTEM_PROMPT
from bot.types import Answer
from evals import metrics as m
from evals.baseline import BM25Baseline
from evals.dataset import EvalQuestion

KS = (1, 3, 5, 10)
NEGATIVES = ("leave-gold-out",)
LGO_SUFFIX = "~lgo"
OUTCOMES = ("answered", "caution", "not_covered", "empty")


def leave_gold_out(questions: list[EvalQuestion]) -> list[tuple[EvalQuestion, frozenset[str]]]:
    """Each answerable question again, asked with its gold document(s) hidden: the right outcome is a refusal.

    The twin keeps the question and its history; its id is the original's plus "~lgo" (folds keep the two
    together) and its type is "leave_gold_out".
    """
    out = []
    for q in questions:
        if q.answerable:
            twin = q.model_copy(
                update={"id": q.id + LGO_SUFFIX, "type": "leave_gold_out", "gold_doc_ids": [], "gold_quotes": []}
            )
            out.append((twin, frozenset(q.gold_doc_ids)))
    return out


def group_of(question_id: str) -> str:
    """The fold group of a question: a leave-gold-out twin belongs with its original."""
    return question_id.removesuffix(LGO_SUFFIX)


def kind_of(row: dict[str, Any]) -> str:
    """ "answerable", "unanswerable" (the set's own) or "leave_gold_out"."""
    if row["type"] == "leave_gold_out":
        return "leave_gold_out"
    return "answerable" if row["gold_doc_ids"] else "unanswerable"


def outcome_table(rows: list[dict[str, Any]], key: str = "outcome") -> dict[str, dict[str, Any]]:
    """Per kind of question: n and the share of each outcome."""
    table: dict[str, dict[str, Any]] = {}
    for kind in ("answerable", "unanswerable", "leave_gold_out"):
        sel = [r for r in rows if kind_of(r) == kind]
        if sel:
            table[kind] = {"n": len(sel)} | {o: sum(r[key] == o for r in sel) / len(sel) for o in OUTCOMES}
    return table


@dataclass
class EvalRun:
    """Per-question results and the aggregated report."""

    results: list[dict[str, Any]]
    report: dict[str, Any]


def _retrieval_query(q: EvalQuestion) -> str:
    """What a plain baseline sees: the question, with the last user turn for follow-ups."""
    users = [t.get("content", "") for t in q.history if t.get("role") == "user"]
    return f"{users[-1]} {q.question}" if users else q.question


def score_question(q: EvalQuestion, answer: Answer, latency_ms: float, k: int) -> dict[str, Any]:
    """Every per-question metric of one answer."""
    ranked = m.unique_docs([c.doc_id for c in answer.chunks])
    cited = {c.n: c.quote for c in answer.citations}
    row: dict[str, Any] = {
        "id": q.id,
        "type": q.type,
        "lang": q.lang or "en",
        "question": q.question,
        "standalone_question": answer.standalone_question,
        "answer": answer.text,
        "refused": answer.refused,
        "citations": [
            {"n": c.n, "doc_id": c.doc_id, "title": c.title, "page": c.page, "section": c.section}
            for c in answer.citations
        ],
        "retrieved_doc_ids": ranked[:10],
        "gold_doc_ids": q.gold_doc_ids,
        "gold_match": q.gold_match,
        "latency_ms": round(latency_ms, 1),
        "notice": answer.notice,
        "outcome": answer.outcome,
        "features": answer.evidence,
        "passages": answer.passage_evidence,
        "chunk_doc_ids": [c.doc_id for c in answer.chunks],
    }
    metrics: dict[str, Any] = {}
    if q.answerable:
        for kk in KS:
            metrics[f"recall@{kk}"] = m.recall_at_k(ranked, q.gold_doc_ids, kk, q.gold_match)
        metrics["recall_cap@1"] = m.capped_recall_at_k(ranked, q.gold_doc_ids, 1)
        metrics["mrr"] = m.reciprocal_rank(ranked, q.gold_doc_ids)
        metrics["ndcg@10"] = m.ndcg_at_k(ranked, q.gold_doc_ids, 10)
        metrics["answerable_refused"] = float(answer.refused)
    elif q.type == "leave_gold_out":
        metrics["leave_gold_out_refused"] = float(answer.refused)
    else:
        metrics["unanswerable_refused"] = float(answer.refused)
    if not answer.refused:
        precision, recall = m.citation_precision_recall(answer.text, cited)
        metrics["citation_valid"] = m.citation_validity(answer.text, len(answer.citations))
        metrics["citation_precision"] = precision
        metrics["citation_recall"] = recall
        claims = [x for x in answer.sentences if x.get("support") is not None]
        if claims:  # a model's answer: share of its sentences that the cited passage supports
            metrics["sentences_supported"] = sum(x["citation"] is not None for x in claims) / len(claims)
        metrics["citations_resolve"] = float(
            all(c.chunk_id in {ch.id for ch in answer.chunks} for c in answer.citations)
        )
        if q.answerable:
            metrics["token_f1"] = m.token_f1(answer.text, q.answer) if q.answer else None
            metrics["quote_recall"] = m.quote_recall(q.gold_quotes, list(cited.values()))
            metrics["answer_bearing"] = m.answer_bearing(answer.text, q.answer, q.question) if q.answer else None
    if q.type == "injection":
        metrics["injection_resisted"] = float(m.injection_resisted(answer.text, q.must_not_contain, SYSTEM_PROMPT))
    row["metrics"] = metrics
    return row


def _group(rows: list[dict[str, Any]], baseline: dict[str, dict[str, float]] | None) -> dict[str, Any]:
    def agg(key: str) -> float | None:
        return m.mean([r["metrics"].get(key) for r in rows])

    group: dict[str, Any] = {
        "n": len(rows),
        "retrieval": {
            "recall@1": agg("recall@1"),
            "recall_cap@1": agg("recall_cap@1"),
            "recall@3": agg("recall@3"),
            "recall@5": agg("recall@5"),
            "recall@10": agg("recall@10"),
            "mrr": agg("mrr"),
            "ndcg@10": agg("ndcg@10"),
        },
        "citation": {
            "precision": agg("citation_precision"),
            "recall": agg("citation_recall"),
            "valid": agg("citation_valid"),
            "resolve": agg("citations_resolve"),
        },
        "refusal": {
            "unanswerable_refused": agg("unanswerable_refused"),
            "answerable_refused": agg("answerable_refused"),
        },
        "answer": {
            "token_f1": agg("token_f1"),
            "quote_recall": agg("quote_recall"),
            "answer_bearing": agg("answer_bearing"),
            "sentences_supported": agg("sentences_supported"),
            "answer_bearing_half": m.mean(
                [float(v >= 0.5) for r in rows if (v := r["metrics"].get("answer_bearing")) is not None]
            ),
        },
        "injection": {"resisted": agg("injection_resisted")},
    }
    if any("judge_faithfulness" in r["metrics"] for r in rows):
        group["judge"] = {"faithfulness": agg("judge_faithfulness"), "relevance": agg("judge_relevance")}
    if baseline is not None:
        ids = [r["id"] for r in rows if r["id"] in baseline]
        group["baseline_bm25"] = {
            key: m.mean([baseline[i][key] for i in ids])
            for key in ("recall@1", "recall@3", "recall@5", "recall@10", "mrr")
        } | {"ndcg@10": m.mean([baseline[i]["ndcg@10"] for i in ids])}
    return group


def run_eval(
    assistant: Assistant,
    questions: list[EvalQuestion],
    k: int = 5,
    baseline: BM25Baseline | None = None,
    progress: Callable[[int, int], None] | None = None,
    judge: Any = None,
    negatives: str | None = None,
    folds: int = 0,
) -> EvalRun:
    """Ask every question (history included) and score it.

    negatives="leave-gold-out" adds each answerable question's twin with its gold documents hidden (reported
    apart: report["leave_gold_out"]); folds=K adds cross-validated outcomes (report["cv"], evals/calibrate.py).
    """
    rows: list[dict[str, Any]] = []
    base: dict[str, dict[str, float]] = {}
    if negatives not in (None, *NEGATIVES):
        raise ValueError(f"unknown negatives {negatives!r} (known: {', '.join(NEGATIVES)})")
    asked: list[tuple[EvalQuestion, frozenset[str]]] = [(q, frozenset()) for q in questions]
    if negatives == "leave-gold-out":
        asked += leave_gold_out(questions)
    for i, (q, hidden) in enumerate(asked):
        t0 = time.perf_counter()
        first_ms: float | None = None
        for answer in assistant.ask_stream(q.question, q.history, exclude=hidden):
            if first_ms is None and answer.text:  # the first text a user sees (a model's first tokens)
                first_ms = (time.perf_counter() - t0) * 1000
        latency = (time.perf_counter() - t0) * 1000
        row = score_question(q, answer, latency, k)
        row["first_text_ms"] = round(first_ms if first_ms is not None else latency, 1)
        if judge is not None and not answer.refused:
            grades = judge.grade(q.question, answer.text, [c.quote for c in answer.citations])
            row["metrics"]["judge_faithfulness"] = grades["faithfulness"]
            row["metrics"]["judge_relevance"] = grades["relevance"]
        if baseline is not None and q.answerable:
            ranked = baseline.rank_docs(_retrieval_query(q))
            base[q.id] = {f"recall@{kk}": m.recall_at_k(ranked, q.gold_doc_ids, kk, q.gold_match) for kk in KS}
            base[q.id]["mrr"] = m.reciprocal_rank(ranked, q.gold_doc_ids)
            base[q.id]["ndcg@10"] = m.ndcg_at_k(ranked, q.gold_doc_ids, 10)
            row["baseline_bm25"] = base[q.id]
        rows.append(row)
        if progress:
            progress(i + 1, len(asked))
    baseline_rows = base if baseline is not None else None
    all_rows, rows = rows, [r for r in rows if r["type"] != "leave_gold_out"]
    report = _group(rows, baseline_rows)
    report["outcomes"] = outcome_table(all_rows)
    twins = [r for r in all_rows if r["type"] == "leave_gold_out"]
    if twins:
        report["leave_gold_out"] = {
            "n": len(twins),
            "refused": m.mean([r["metrics"]["leave_gold_out_refused"] for r in twins]),
            "not_answered_as_covered": m.mean([float(r["outcome"] != "answered") for r in twins]),
        }
    if folds:
        from evals.calibrate import cross_validate

        report["cv"] = cross_validate(all_rows, folds)
    report["k"] = k
    report["by_type"] = {
        t: _group([r for r in rows if r["type"] == t], baseline_rows) for t in dict.fromkeys(r["type"] for r in rows)
    }
    foreign = [r for r in rows if r["lang"] != "en" and r["id"] in {q.id for q in questions if q.answerable}]
    report["non_english"] = {
        "n": len(foreign),
        "recall@5": m.mean([r["metrics"]["recall@5"] for r in foreign]),
        "missed": [r["id"] for r in foreign if r["metrics"]["recall@5"] < 1.0],
    }
    report["latency_ms"] = m.percentiles([r["latency_ms"] for r in rows])
    report["first_text_ms"] = m.percentiles([r["first_text_ms"] for r in rows])
    return EvalRun(results=all_rows, report=report)


def write_results(run: EvalRun, out: Path) -> None:
    """results.jsonl and report.json."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "results.jsonl").open("w", encoding="utf-8") as fh:
        for row in run.results:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out / "report.json").write_text(json.dumps(run.report, indent=2, ensure_ascii=False), encoding="utf-8")
