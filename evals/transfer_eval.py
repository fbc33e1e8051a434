"""Precision@5 of the transfer finder on evals/transfer.jsonl (labelled by reading the documents).

A ranked practice is relevant when its document is labelled relevant for the challenge (several practices
of one document, from different places, each count). Usage, on an index of the default library:
`python -m evals.transfer_eval [--k 5]` (HELPDESK_CHROMA_PATH / HELPDESK_COLLECTION choose the index).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bot.transfer import UNPLACED

LABELS = Path(__file__).with_name("transfer.jsonl")


def load_labels(path: Path = LABELS) -> list[dict[str, Any]]:
    """The labelled challenges."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def precision_at(ranked_docs: list[str], relevant: set[str], k: int) -> float:
    """Share of the first k results whose document is relevant (a list shorter than k counts its gaps as misses)."""
    return sum(1 for d in ranked_docs[:k] if d in relevant) / k


def evaluate(finder: Any, labels: list[dict[str, Any]], k: int = 5) -> dict[str, Any]:
    """Per-challenge precision@k, distinct places in the top k, and the means."""
    rows = []
    for item in labels:
        result = finder.find(item["challenge"], item["region"], item.get("country", ""), k=max(k, 8))
        docs = [p.doc_id for p in result.practices]
        rows.append(
            {
                "id": item["id"],
                "precision": precision_at(docs, set(item["relevant"]), k),
                "places": len({p.place for p in result.practices[:k] if p.place != UNPLACED}),
                "returned": len(result.practices),
                "top": [f"{p.doc_id} ({p.place})" for p in result.practices[:k]],
            }
        )
    n = len(rows) or 1
    return {
        "k": k,
        "precision_at_k": round(sum(r["precision"] for r in rows) / n, 3),
        "mean_places_in_top_k": round(sum(r["places"] for r in rows) / n, 2),
        "challenges": rows,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the finder over the labelled set and print the report as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args(argv)
    from bot.components import build_components
    from bot.settings import load_settings
    from bot.transfer import TransferFinder

    comps = build_components(load_settings(), use_llm=False)
    report = evaluate(TransferFinder(comps.assistant, comps.settings.transfer), load_labels(), args.k)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
