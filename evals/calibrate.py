"""Fit the answerability combiner (bot/answerability.json) and judge it by cross-validation only.

Training rows are the eval results of a run with `--negatives leave-gold-out`: every answerable question
(label 1), the set's own unanswerable questions and each answerable question's leave-gold-out twin (label 0),
each with the evidence features the product computed (bot/evidence.py). The combiner is a standardised
logistic regression (scikit-learn, balanced classes, L2); the two thresholds are set on the training rows
from the answerable questions' probabilities: at most `refuse_share` of them fall below `refuse_below`
(refused) and at most `caution_share` below `caution_below` (cautioned or refused).

Cross-validation: the question groups (a question and its twin together) are split into K folds; for each
fold the model and thresholds are fitted on the other K-1 and the held-out questions' outcomes decided;
the figures reported are those held-out decisions only.

    python -m evals.calibrate eval-out/results.jsonl [--folds 5] [--write bot/answerability.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from bot.evidence import FEATURES, PASSAGE_FEATURES
from bot.refusal import MODEL_PATH, AnswerabilityModel
from bot.rerank import RERANK_PATH, Reranker
from evals import metrics as m
from evals.runner import group_of, kind_of, outcome_table

REFUSE_SHARE = 0.03
CAUTION_SHARE = 0.10
C = 1.0
SEED = 12


def design(rows: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, list[str], list[dict[str, Any]]]:
    """(X, y, groups, rows used): rows without features (e.g. the empty-library outcome) are left out."""
    used = [r for r in rows if r.get("features") and all(f in r["features"] for f in FEATURES)]
    x = np.array([[float(r["features"][f]) for f in FEATURES] for r in used], dtype=float)
    y = np.array([kind_of(r) == "answerable" for r in used], dtype=int)
    return x, y, [group_of(r["id"]) for r in used], used


def fit(
    x: np.ndarray, y: np.ndarray, refuse_share: float = REFUSE_SHARE, caution_share: float = CAUTION_SHARE
) -> AnswerabilityModel:
    """Logistic regression on standardised features, then the two thresholds from the positives."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=1000)
    clf.fit((x - mean) / scale, y)
    model = AnswerabilityModel(
        features=FEATURES,
        mean=mean.tolist(),
        scale=scale.tolist(),
        coef=clf.coef_[0].tolist(),
        intercept=float(clf.intercept_[0]),
        refuse_below=0.0,
        caution_below=0.0,
    )
    p_pos = np.sort([model.probability(dict(zip(FEATURES, row, strict=True))) for row in x[y == 1]])
    model.refuse_below = _cut(p_pos, refuse_share)
    model.caution_below = max(model.refuse_below, _cut(p_pos, caution_share))
    return model


def _cut(sorted_pos: np.ndarray, share: float) -> float:
    """A threshold with at most `share` of the positives strictly below it (halfway to the next lower one)."""
    if not len(sorted_pos):
        return 0.5
    i = int(np.floor(share * len(sorted_pos)))
    below = sorted_pos[i - 1] if i > 0 else 0.0
    return float((below + sorted_pos[i]) / 2)


def fold_of(groups: list[str], k: int, seed: int = SEED) -> dict[str, int]:
    """Groups shuffled with a fixed seed, dealt round-robin into k folds."""
    unique = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(unique))
    return {unique[j]: i % k for i, j in enumerate(order)}


def legacy_outcome(features: dict[str, float]) -> str:
    """The rules before issue 12 (key-term coverage ≥ 0.5, unknown names, missing years, dense ≥ 0.38 for
    other languages), recomputed from the same features: the "before" column of the same run."""
    if features["dense_top"] < 0.15:
        return "not_covered"
    if features["foreign"]:
        return "answered" if features["dense_top"] >= 0.38 or features["coverage"] >= 0.5 else "not_covered"
    if features["unknown_name"] or features["missing_year"]:
        return "not_covered"
    return "answered" if features["coverage"] >= 0.5 else "not_covered"


def cross_validate(rows: list[dict[str, Any]], k: int) -> dict[str, Any]:
    """Held-out outcomes per fold (rows get "cv_outcome"), the outcome table and the headline shares."""
    x, y, groups, used = design(rows)
    if len(set(y.tolist())) < 2:
        return {"folds": k, "note": "cross-validation needs answerable and unanswerable questions with features"}
    folds = fold_of(groups, k)
    f = np.array([folds[g] for g in groups])
    for i in range(k):
        train, test = f != i, f == i
        if not test.any():
            continue
        if len(set(y[train].tolist())) < 2:
            return {"folds": k, "note": f"fold {i}: the training folds lack one class"}
        model = fit(x[train], y[train])
        for row in (r for r, t in zip(used, test, strict=True) if t):
            p = model.probability(row["features"])
            row["cv_probability"] = p
            row["cv_outcome"] = model.outcome(p)
    for row in used:
        row["legacy_outcome"] = legacy_outcome(row["features"])
    return {"folds": k, "outcomes": outcome_table(used, "cv_outcome"), **headline(used, "cv_outcome")} | {
        "legacy": {"outcomes": outcome_table(used, "legacy_outcome"), **headline(used, "legacy_outcome")},
        "ranking": cross_validate_ranking(rows, k),
    }


def _rerank_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Answerable questions (not leave-gold-out twins) with per-passage evidence."""
    return [r for r in rows if kind_of(r) == "answerable" and len(r.get("passages") or []) >= 2]


def _english(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows the reranker is fitted on and applied to (other languages keep the retrieval order)."""
    return [r for r in rows if not (r.get("features") or {}).get("foreign")]


def fit_reranker(rows: list[dict[str, Any]]) -> Reranker:
    """Pairwise logistic regression (RankNet-style, linear): within a question, which of two top passages is
    from a gold document? Fitted on feature differences, no intercept; passages of gold vs other documents."""
    from sklearn.linear_model import LogisticRegression

    allx = np.array([[p[f] for f in PASSAGE_FEATURES] for r in rows for p in r["passages"]], dtype=float)
    scale = allx.std(axis=0)
    scale[scale == 0] = 1.0
    diffs, labels = [], []
    for r in rows:
        x = np.array([[p[f] for f in PASSAGE_FEATURES] for p in r["passages"]], dtype=float) / scale
        gold = [p["doc_id"] in r["gold_doc_ids"] for p in r["passages"]]
        for i, gi in enumerate(gold):
            for j, gj in enumerate(gold):
                if gi and not gj:
                    diffs += [x[i] - x[j], x[j] - x[i]]
                    labels += [1, 0]
    if not diffs:
        return Reranker(
            features=PASSAGE_FEATURES,
            mean=[0.0] * len(PASSAGE_FEATURES),
            scale=scale.tolist(),
            coef=[1.0 if f == "fused" else 0.0 for f in PASSAGE_FEATURES],
        )
    clf = LogisticRegression(C=C, fit_intercept=False, max_iter=1000).fit(np.array(diffs), np.array(labels))
    mean = allx.mean(axis=0)
    return Reranker(features=PASSAGE_FEATURES, mean=mean.tolist(), scale=scale.tolist(), coef=clf.coef_[0].tolist())


def ranked_docs(row: dict[str, Any], reranker: Reranker | None) -> list[str]:
    """The document ranking of a row with its top passages reordered (None: retrieval order)."""
    top = row["passages"]
    foreign = (row.get("features") or {}).get("foreign")
    order = reranker.order(top) if reranker and not foreign else list(range(len(top)))
    return m.unique_docs([top[i]["doc_id"] for i in order] + row["chunk_doc_ids"][len(top) :])


def ranking_figures(rows: list[dict[str, Any]], key: str) -> dict[str, float | None]:
    """recall@1 (and BEIR's capped recall@1), recall@5 and MRR of the rankings stored under `key`."""
    return {
        "recall@1": m.mean([m.recall_at_k(r[key], r["gold_doc_ids"], 1, r.get("gold_match", "any")) for r in rows]),
        "recall_cap@1": m.mean([m.capped_recall_at_k(r[key], r["gold_doc_ids"], 1) for r in rows]),
        "recall@5": m.mean([m.recall_at_k(r[key], r["gold_doc_ids"], 5, r.get("gold_match", "any")) for r in rows]),
        "mrr": m.mean([m.reciprocal_rank(r[key], r["gold_doc_ids"]) for r in rows]),
    }


def cross_validate_ranking(rows: list[dict[str, Any]], k: int) -> dict[str, Any]:
    """Held-out reranking: fitted on K-1 folds, the held-out questions' rankings measured; and the retrieval
    order of the same rows (before). Rows without per-passage evidence keep their ranking."""
    used = _rerank_rows(rows)
    if len(used) < k:
        return {"note": "too few answerable questions with passage evidence"}
    folds = fold_of([group_of(r["id"]) for r in used], k)
    for i in range(k):
        train = _english([r for r in used if folds[group_of(r["id"])] != i])
        model = fit_reranker(train)
        for r in used:
            if folds[group_of(r["id"])] == i:
                r["cv_ranked"] = ranked_docs(r, model)
    for r in used:
        r["base_ranked"] = ranked_docs(r, None)
    return {
        "n": len(used),
        "cv": ranking_figures(used, "cv_ranked"),
        "retrieval_order": ranking_figures(used, "base_ranked"),
    }


def headline(rows: list[dict[str, Any]], key: str) -> dict[str, float | None]:
    """answerable refused, unanswerable refused (own set / leave-gold-out) and 'not answered as covered'."""

    def share(kind: str, outcomes: tuple[str, ...]) -> float | None:
        sel = [r for r in rows if kind_of(r) == kind]
        return sum(r[key] in outcomes for r in sel) / len(sel) if sel else None

    refused = ("not_covered", "empty")
    return {
        "answerable_refused": share("answerable", refused),
        "answerable_cautioned": share("answerable", ("caution",)),
        "unanswerable_refused": share("unanswerable", refused),
        "unanswerable_not_asserted": share("unanswerable", (*refused, "caution")),
        "leave_gold_out_refused": share("leave_gold_out", refused),
        "leave_gold_out_not_asserted": share("leave_gold_out", (*refused, "caution")),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the cross-validated figures; with --write, fit on all rows and write the model file."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path, help="results.jsonl of `helpdesk eval --negatives leave-gold-out`")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--write", type=Path, nargs="?", const=MODEL_PATH, help=f"write the model (default {MODEL_PATH})")
    args = ap.parse_args(argv)
    rows = [json.loads(line) for line in args.results.read_text(encoding="utf-8").splitlines() if line.strip()]
    print(json.dumps(cross_validate(rows, args.folds), indent=2))
    if args.write:
        x, y, _, _ = design(rows)
        model = fit(x, y)
        payload = model.to_json() | {
            "fitted_on": f"{args.results.name}: {int(y.sum())} answerable, {int((1 - y).sum())} negatives",
        }
        args.write.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.write}")
        reranker = fit_reranker(_english(_rerank_rows(rows)))
        rerank_path = args.write.with_name(RERANK_PATH.name)
        rerank_path.write_text(json.dumps(reranker.to_json(), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {rerank_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
