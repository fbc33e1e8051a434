"""`helpdesk eval`: run a question set, write results/report files, apply the gate; `eval compare A B`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from bot.errors import HelpdeskError


def add_eval_parser(sub: argparse._SubParsersAction) -> None:
    """Register `helpdesk eval`."""
    p = sub.add_parser("eval", help="evaluate on a question set (or: eval compare DIR_A DIR_B)")
    p.add_argument("action", nargs="*", help="'compare DIR_A DIR_B' prints the metric deltas of two runs")
    p.add_argument("--questions", type=Path, help="JSONL question file (format: evals/README.md)")
    p.add_argument("--out", type=Path, help="output folder for results.jsonl, report.json/.md/.png")
    p.add_argument("--k", type=int, default=5, help="passages given to the answerer (default 5)")
    p.add_argument(
        "--backend",
        choices=["offline", "llm", "both"],
        default="offline",
        help="answer back-end; both: offline and the model side by side in one run (OUT/offline, OUT/llm)",
    )
    p.add_argument("--baseline", choices=["bm25"], help="add a plain BM25 ranking over the same chunks")
    p.add_argument("--gate", type=Path, help="thresholds TOML: exit 1 when a metric is outside its limit")
    p.add_argument("--judge", action="store_true", help="LLM-as-judge faithfulness/relevance (needs an endpoint)")
    p.add_argument(
        "--negatives",
        choices=["leave-gold-out"],
        help="add each answerable question again with its gold documents hidden (expected: not covered)",
    )
    p.add_argument("--folds", type=int, default=0, help="K: cross-validated answerability outcomes (K-1 fit, 1 test)")
    p.add_argument("--library", type=Path, nargs="*", default=[], help="ingest these files/folders first")
    p.set_defaults(func=cmd_eval)


def cmd_eval(args: argparse.Namespace) -> int:
    """Run the evaluation (or the comparison)."""
    from evals.gate import check_gate, compare, load_thresholds

    if args.action:
        if args.action[0] != "compare" or len(args.action) != 3:
            raise HelpdeskError("usage: helpdesk eval compare DIR_A DIR_B")
        print(compare(Path(args.action[1]), Path(args.action[2])))
        return 0
    if not args.questions or not args.out:
        raise HelpdeskError("helpdesk eval needs --questions FILE.jsonl and --out DIR")

    from bot.components import build_components
    from bot.settings import load_settings, reveal
    from evals.baseline import BM25Baseline
    from evals.dataset import load_questions
    from evals.report import write_reports
    from evals.runner import run_eval, write_results

    questions = load_questions(args.questions)
    settings = load_settings()
    comps = build_components(settings, use_llm=args.backend != "offline")
    if args.backend != "offline" and comps.assistant.llm is None:
        raise HelpdeskError(
            f"--backend {args.backend} needs a model: HELPDESK_LLM=local (after `make models`) or an endpoint "
            "(OPENAI_BASE_URL / HELPDESK_LLM_BASE_URL)"
        )
    if args.library:
        summary = comps.pipeline.run(args.library, progress=True, report=lambda s: tqdm.write(s, file=sys.stderr))
        print(f"library: {summary.line()}", file=sys.stderr)
    comps.assistant.config.passages = args.k
    comps.assistant.warm_up()
    baseline = BM25Baseline(comps.store.current_chunks()) if args.baseline == "bm25" else None
    judge = None
    if args.judge:
        if not settings.llm_enabled:
            raise HelpdeskError("--judge needs an endpoint: set OPENAI_BASE_URL (or HELPDESK_LLM_BASE_URL)")
        from bot.answering.llm import make_client
        from evals.judge import LLMJudge

        client = make_client(settings.llm_base_url, reveal(settings.llm_api_key), settings.llm_timeout)
        judge = LLMJudge(client, settings.llm_model)
    if args.folds == 1 or args.folds < 0:
        raise HelpdeskError("--folds needs K >= 2")
    n_asked = len(questions) * (2 if args.negatives else 1)
    model = comps.assistant.llm
    runs = {"offline": None, "llm": model} if args.backend == "both" else {args.backend: model}
    reports = {}
    try:
        for name, llm in runs.items():
            comps.assistant.llm = llm if name == "llm" else None
            out = args.out / name if len(runs) > 1 else args.out
            bar = tqdm(total=n_asked, desc=f"eval {name}", unit="q", file=sys.stderr, leave=False)
            run = run_eval(
                comps.assistant,
                questions,
                k=args.k,
                baseline=baseline,
                progress=lambda i, n, bar=bar: bar.update(1),
                judge=judge,
                negatives=args.negatives,
                folds=args.folds,
            )
            bar.close()
            write_results(run, out)
            write_reports(run.report, run.results, out)
            reports[name] = run.report
            print((out / "report.md").read_text(encoding="utf-8").split("## The 10 worst")[0].rstrip())
            print(f"\nwrote {out}/results.jsonl, report.json, report.md, report.png")
    finally:
        comps.close()
    if len(runs) > 1:
        print(f"\n## offline → llm\n{compare(args.out / 'offline', args.out / 'llm')}")
    run_report = reports[next(reversed(reports))]
    if args.gate:
        failures = check_gate(run_report, load_thresholds(args.gate))
        for f in failures:
            print(f"GATE FAILED {f}", file=sys.stderr)
        if failures:
            return 1
        print(f"gate passed ({args.gate})")
    return 0
