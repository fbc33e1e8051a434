"""Readable reports: report.md (tables, worst questions) and report.png (matplotlib)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

GROUPS = ("retrieval", "citation", "refusal", "answer", "injection", "judge")


def _fmt(v: Any) -> str:
    return "–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def _badness(row: dict[str, Any]) -> float:
    mt = row["metrics"]
    if "unanswerable_refused" in mt:
        return 1.0 - mt["unanswerable_refused"]
    if mt.get("injection_resisted") == 0.0:
        return 2.0
    parts = [1.0 - mt.get("recall@5", 0.0), mt.get("answerable_refused", 0.0), 1.0 - (mt.get("quote_recall") or 0.0)]
    return sum(parts) / len(parts)


def _outcome_rows(table: dict[str, Any]) -> list[str]:
    out = []
    for kind, t in table.items():
        out.append(
            f"| {kind.replace('_', ' ')} | {t['n']} | {_fmt(t['answered'])} | {_fmt(t['caution'])} | "
            f"{_fmt(t['not_covered'] + t.get('empty', 0.0))} |"
        )
    return out


def outcome_lines(report: dict[str, Any]) -> list[str]:
    """The three outcomes per kind of question (as run, and cross-validated when --folds was given)."""
    head = ["| questions | n | answered | answered with caution | not covered |", "|---|---|---|---|---|"]
    lines: list[str] = []
    if report.get("outcomes"):
        lines += ["", "## Outcomes (as run: the shipped answerability model)", "", *head]
        lines += _outcome_rows(report["outcomes"])
    cv = report.get("cv") or {}
    if cv.get("outcomes"):
        lines += ["", f"## Outcomes, cross-validated ({cv['folds']} folds, fitted on the others)", "", *head]
        lines += _outcome_rows(cv["outcomes"])
    elif cv.get("note"):
        lines += ["", f"Cross-validation: {cv['note']}"]
    ranking = cv.get("ranking") or {}
    if ranking.get("cv"):
        keys = [k for k in ("recall@1", "recall_cap@1", "recall@5", "mrr") if k in ranking["cv"]]
        title = f"## Ranking, cross-validated ({ranking['n']} answerable questions, reranker fitted on the others)"
        lines += ["", title]
        lines += ["", "| order | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
        for name, key in (("retrieval order", "retrieval_order"), ("reranked, held out", "cv")):
            lines.append(f"| {name} | " + " | ".join(_fmt(ranking[key].get(k)) for k in keys) + " |")
        lines += ["", "recall_cap@1 is BEIR's capped recall: two gold documents count 1 when the first is gold."]
    return lines


def markdown_report(report: dict[str, Any], results: list[dict[str, Any]], title: str = "Evaluation report") -> str:
    """The report as Markdown for people who do not read code."""
    lines = [f"# {title}", "", f"{report['n']} questions, answers from the top {report['k']} passages.", ""]
    lines += ["## Overall", "", "| group | metric | value |", "|---|---|---|"]
    for g in GROUPS:
        for key, value in report.get(g, {}).items():
            lines.append(f"| {g} | {key} | {_fmt(value)} |")
    lat = report["latency_ms"]
    lines.append(f"| latency | p50 / p95 / max ms | {lat['p50']:.0f} / {lat['p95']:.0f} / {lat['max']:.0f} |")
    if first := report.get("first_text_ms"):
        lines.append(f"| first text | p50 / p95 ms | {first['p50']:.0f} / {first['p95']:.0f} |")
    lines += outcome_lines(report)
    if "baseline_bm25" in report:
        lines += ["", "## Ranking vs plain BM25 (same chunks)", "", "| metric | product | BM25 |", "|---|---|---|"]
        for key, value in report["baseline_bm25"].items():
            lines.append(f"| {key} | {_fmt(report['retrieval'].get(key))} | {_fmt(value)} |")
    ne = report.get("non_english", {})
    if ne.get("n"):
        lines += [
            "",
            f"Non-English questions: {ne['n']}, recall@5 {_fmt(ne['recall@5'])}, missed: {ne['missed'] or 'none'}",
        ]
    lines += [
        "",
        "## By question type",
        "",
        "| type | n | recall@1 | recall@5 | MRR | cit. precision | cit. recall | refused (unans.) | refused (ans.) "
        "| token F1 | quote recall |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t, g in report["by_type"].items():
        r, c, rf, a = g["retrieval"], g["citation"], g["refusal"], g["answer"]
        lines.append(
            f"| {t} | {g['n']} | {_fmt(r['recall@1'])} | {_fmt(r['recall@5'])} | {_fmt(r['mrr'])} | "
            f"{_fmt(c['precision'])} | {_fmt(c['recall'])} | {_fmt(rf['unanswerable_refused'])} | "
            f"{_fmt(rf['answerable_refused'])} | {_fmt(a['token_f1'])} | {_fmt(a['quote_recall'])} |"
        )
    worst = sorted(results, key=_badness, reverse=True)[:10]
    lines += [
        "",
        "## The 10 worst questions",
        "",
        "| id | type | question | outcome | retrieved (top 3) |",
        "|---|---|---|---|---|",
    ]
    for row in worst:
        outcome = "refused" if row["refused"] else row["answer"][:140].replace("|", "/").replace("\n", " ")
        lines.append(
            f"| {row['id']} | {row['type']} | {row['question'][:90].replace('|', '/')} | {outcome} | "
            f"{', '.join(row['retrieved_doc_ids'][:3])} |"
        )
    return "\n".join(lines) + "\n"


def plot_report(report: dict[str, Any], path: Path) -> None:
    """Recall@k curve (product vs BM25) and per-type bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    ks = [1, 3, 5, 10]
    ax1.plot(ks, [report["retrieval"][f"recall@{k}"] or 0 for k in ks], marker="o", label="product (hybrid)")
    if "baseline_bm25" in report:
        ax1.plot(ks, [report["baseline_bm25"][f"recall@{k}"] or 0 for k in ks], marker="s", label="plain BM25")
    ax1.set_xlabel("k")
    ax1.set_ylabel("recall@k (gold documents)")
    ax1.set_ylim(0, 1.05)
    ax1.set_xticks(ks)
    ax1.legend()
    ax1.set_title("Retrieval")
    types = list(report["by_type"])
    values = []
    for t in types:
        g = report["by_type"][t]
        if t == "unanswerable":
            values.append(g["refusal"]["unanswerable_refused"] or 0)
        elif t == "injection":
            values.append(g["injection"]["resisted"] or 0)
        else:
            values.append(g["retrieval"]["recall@5"] or 0)
    ax2.bar(types, values, color="#3b7dd8")
    ax2.set_ylim(0, 1.05)
    ax2.set_title("By type: recall@5 (refused for unanswerable, resisted for injection)")
    ax2.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_reports(report: dict[str, Any], results: list[dict[str, Any]], out: Path) -> None:
    """report.md and report.png next to report.json."""
    (out / "report.md").write_text(markdown_report(report, results), encoding="utf-8")
    plot_report(report, out / "report.png")
