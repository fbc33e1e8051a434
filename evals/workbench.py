"""The Evaluate tab's logic (no Gradio here): run a question file, keep the run with its settings, compare runs.

A run is a folder `<runs_dir>/<UTC time>-<set name>/` holding what `helpdesk eval` writes (results.jsonl,
report.json, report.md, report.png) plus `run.json` (question file, time, the Settings used, minus secrets).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.components import Components
from evals.dataset import load_questions
from evals.gate import compare
from evals.report import _badness, write_reports
from evals.runner import run_eval, write_results

DEV_SET = Path(__file__).resolve().parents[1].parent / "shared" / "evals" / "dev.jsonl"
SECRET = re.compile(r"key|password|staff_users", re.I)


def runs_dir_for(settings: Any) -> Path:
    """Where runs are kept: next to the index folder (`.index` → `.index-eval-runs`)."""
    path = Path(settings.chroma_path)
    return path.with_name(path.name + "-eval-runs")


def _settings_dump(settings: Any) -> dict[str, Any]:
    data = settings.model_dump(mode="json") if hasattr(settings, "model_dump") else {}
    return {k: ("***" if SECRET.search(k) and v else v) for k, v in data.items()}


def run_question_file(
    comps: Components,
    questions_path: Path,
    runs_dir: Path,
    progress: Callable[[int, int], None] | None = None,
    name: str = "",
) -> Path:
    """Ask every question of the file, write the report and plot into a new run folder; returns the folder."""
    questions = load_questions(questions_path)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    label = re.sub(r"[^A-Za-z0-9_-]+", "-", name or questions_path.stem).strip("-")[:40] or "questions"
    out = runs_dir / f"{stamp}-{label}"
    out.mkdir(parents=True, exist_ok=False)
    shutil.copyfile(questions_path, out / "questions.jsonl")
    run = run_eval(comps.assistant, questions, k=comps.assistant.config.passages, progress=progress)
    write_results(run, out)
    write_reports(run.report, run.results, out)
    meta = {
        "questions": questions_path.name,
        "n": len(questions),
        "started": stamp,
        "settings": _settings_dump(comps.settings),
    }
    (out / "run.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
    return out


def list_runs(runs_dir: Path) -> list[Path]:
    """Finished runs, newest first."""
    if not runs_dir.is_dir():
        return []
    return sorted((p for p in runs_dir.iterdir() if (p / "report.json").exists()), reverse=True)


def report_markdown(run_dir: Path) -> str:
    """The run's report tables (without the per-question part, shown by `worst_questions`)."""
    text = (run_dir / "report.md").read_text(encoding="utf-8")
    return text.split("## The 10 worst")[0].rstrip()


def worst_questions(run_dir: Path, n: int = 5) -> str:
    """The worst-scored questions as Markdown, each with its answer and the documents retrieved for it."""
    rows = [json.loads(line) for line in (run_dir / "results.jsonl").read_text(encoding="utf-8").splitlines() if line]
    rows.sort(key=_badness, reverse=True)
    out = []
    for row in rows[:n]:
        cited = ", ".join(f"[{c['n']}] {c['title']}" for c in row.get("citations", [])) or "none"
        out += [
            f"<details><summary><b>{_esc(row['id'])}</b> — {_esc(row['question'])} ({row['outcome']})</summary>",
            "",
            f"**Answer:** {_esc(row.get('answer') or '(refused)')}",
            "",
            f"**Cited:** {_esc(cited)}",
            "",
            f"**Retrieved documents:** {_esc(', '.join(row.get('retrieved_doc_ids', [])) or 'none')}",
            "",
            f"**Gold:** {_esc(', '.join(row.get('gold_doc_ids', [])) or '(should be refused)')}",
            "</details>",
            "",
        ]
    return "\n".join(out) or "No questions."


def comparison_markdown(earlier: Path, later: Path) -> str:
    """Side-by-side metrics of two runs (A = earlier, B = later) as a Markdown code block."""
    return f"A = `{earlier.name}`, B = `{later.name}`\n\n```text\n{compare(earlier, later)}\n```"


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
