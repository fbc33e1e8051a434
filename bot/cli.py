"""The `helpdesk` command: ingest, status (and more as the product grows)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from bot.errors import HelpdeskError


def _settings():
    from bot.settings import load_settings

    return load_settings()


def cmd_ingest(args: argparse.Namespace) -> int:
    """Ingest files/folders (default: the corpus folder) incrementally."""
    from bot.derived_cache import package_version
    from bot.store_server import ingest_lock_path, serves_own_folder, through_running_server
    from ingest import sync_stamp

    settings = _settings()
    paths = [Path(p) for p in args.paths] or [settings.corpus_dir]
    # the note of the last complete ingest (ingest/sync_stamp.py): only for an index folder this machine owns
    served = through_running_server(settings)
    note = sync_stamp.stamp_path(ingest_lock_path(served)) if serves_own_folder(served) else None
    digest, files = sync_stamp.fingerprint(paths, settings.model_dump_json(), package_version("policy-helpdesk"))
    if args.if_changed and not args.reset and note is not None and sync_stamp.unchanged(note, digest):
        print(f"unchanged since the last complete ingest ({files} files): nothing to do")
        return 0
    from bot.components import build_components

    comps = build_components(served, use_llm=False, reset_index=args.reset)  # redirected once, said once
    summary = comps.pipeline.run(
        paths,
        reset=args.reset,
        progress=not args.quiet,
        report=lambda msg: tqdm.write(msg, file=sys.stderr),
        lock_wait=args.wait,
    )
    if note is not None and not summary.failed:
        sync_stamp.write(note, digest, files)
    print(summary.line())
    return 1 if summary.failed else 0


def cmd_status(args: argparse.Namespace) -> int:
    """Print what the index holds."""
    from bot.components import build_components

    comps = build_components(_settings())
    records = comps.store.documents()
    current = sum(r.n_chunks for r in records.values())
    info = {
        "store": comps.store.description,
        "embed_model": comps.embedder.model_name,
        "embed_dim": comps.embedder.dim,
        "documents": len(records),
        "chunks": current,
        "stored_chunks": comps.store.count_chunks(),
        "doc_types": dict(Counter(r.doc_type or "-" for r in records.values()).most_common()),
        "last_ingested": max((r.ingested_at for r in records.values()), default=""),
    }
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print(f"store        {info['store']}")
        print(f"model        {info['embed_model']} ({info['embed_dim']}-d)")
        print(f"documents    {info['documents']}")
        print(f"chunks       {info['chunks']}")
        if info["stored_chunks"] != current:
            print(f"stored       {info['stored_chunks']} (stale chunks will be removed by the next ingest)")
        print("doc types    " + ", ".join(f"{k} {v}" for k, v in info["doc_types"].items()))
        print(f"last ingest  {info['last_ingested'] or 'never'}")
    return 0


def format_answer(answer) -> str:
    """An Answer as readable terminal text: the answer, then the numbered sources."""
    lines = []
    if answer.notice:
        lines += [f"note: {answer.notice}", ""]
    if answer.outcome == "caution":
        from bot.prompts import CAUTION_NOTICE

        lines += [f"caution: {CAUTION_NOTICE}", ""]
    lines.append(answer.text)
    if answer.citations:
        lines += ["", "Sources:"]
        for c in answer.citations:
            where = f", {c.location()}" if c.location() else ""
            place = ", ".join(x for x in (c.country, c.region) if x)
            lines.append(f"[{c.n}] {c.title}{where}" + (f" ({place})" if place else ""))
            if c.source_url:
                lines.append(f"    {c.source_url}")
    if (answer.refused or answer.outcome == "caution") and answer.suggestions:
        lines += ["", "You may also look at:"]
        lines += [f"- {s['title']}" + (f" <{s['source_url']}>" if s["source_url"] else "") for s in answer.suggestions]
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer one question from the index."""
    from bot.components import build_components
    from bot.types import Filters
    from bot.user_input import clean_text

    comps = build_components(_settings())
    filters = Filters(
        country=_clean_arg(args.country),
        doc_type=_clean_arg(args.doc_type),
        topic=_clean_arg(args.topic),
        project=_clean_arg(args.project),
    )
    answer = comps.assistant.ask(clean_text(args.question), filters=None if filters.is_empty() else filters)
    if args.json:
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(format_answer(answer))
    return 0


def cmd_coverage(args: argparse.Namespace) -> int:
    """Write the topic × country coverage map (CSV, Markdown, PNG) of the index."""
    from bot.components import build_components
    from bot.coverage import coverage_map, write_coverage

    comps = build_components(_settings(), use_llm=False)
    records = list(comps.store.documents().values())
    paths = write_coverage(records, Path(args.out), top=args.top)
    cov = coverage_map(records)
    print(
        f"{cov.total_documents} documents, {cov.total_passages} passages, {len(cov.topics)} topics, "
        f"{len(cov.countries)} countries; {len(cov.gaps(args.top))} gaps among the top {args.top} topics"
    )
    for path in paths.values():
        print(f"wrote {path}")
    return 0


def cmd_transfer(args: argparse.Namespace) -> int:
    """Practices from other regions that address a challenge, ranked, with cited sentences."""
    from bot.components import build_components
    from bot.transfer import TransferFinder, transfer_markdown

    comps = build_components(_settings(), use_llm=False)
    finder = TransferFinder(comps.assistant, comps.settings.transfer)
    result = finder.find(
        _clean_arg(args.challenge) or "", _clean_arg(args.region) or "", _clean_arg(args.country) or "", k=args.k
    )
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(transfer_markdown(result))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the Gradio app."""
    from bot.server import serve

    serve(_settings())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The CLI's argument parser (also used to generate the README's help text)."""
    parser = argparse.ArgumentParser(prog="helpdesk", description="Policy Helpdesk Assistant")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="ingest files or folders into the index (incremental)")
    p.add_argument("paths", nargs="*", help="files or folders (default: HELPDESK_CORPUS_DIR)")
    p.add_argument("--reset", action="store_true", help="drop the index first and rebuild it")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--wait", type=float, default=0.0, help="seconds to wait for another ingest to finish")
    p.add_argument(
        "--if-changed",
        action="store_true",
        help="do nothing when no file changed since the last complete ingest of the same folders (make run)",
    )
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("status", help="documents, chunks, model and store of the index")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("ask", help="answer a question with numbered citations")
    p.add_argument("question", help="the question (quote it)")
    p.add_argument("--json", action="store_true", help="print the Answer object as JSON")
    p.add_argument("--country", help="only passages from this country")
    p.add_argument("--doc-type", help="only this document type (e.g. good_practice, policy_brief)")
    p.add_argument("--topic", help="only documents with this topic")
    p.add_argument("--project", help="only documents of this project")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("coverage", help="topic × country coverage map of the library (CSV, Markdown, PNG)")
    p.add_argument("--out", required=True, help="folder for coverage.csv, coverage.md and coverage.png")
    p.add_argument("--top", type=int, default=25, help="topics (most documents first) in the heat-map and gaps")
    p.set_defaults(func=cmd_coverage)

    p = sub.add_parser("transfer", help="good practices from other regions that address a challenge")
    p.add_argument("challenge", help="the region's challenge in plain words (quote it)")
    p.add_argument("--region", required=True, help="the asking region (its own practices are listed apart)")
    p.add_argument("--country", help="the asking region's country (its country-level practices are set apart too)")
    p.add_argument("-k", type=int, default=8, help="how many practices to list")
    p.add_argument("--json", action="store_true", help="print the ranked practices as JSON")
    p.set_defaults(func=cmd_transfer)

    p = sub.add_parser("serve", help="serve the web app (same as `python app.py`)")
    p.set_defaults(func=cmd_serve)

    from evals.bench import add_bench_parser
    from evals.command import add_eval_parser

    add_eval_parser(sub)
    add_bench_parser(sub)
    return parser


def _clean_arg(value: str | None) -> str | None:
    """A command-line value without undecodable bytes (surrogate escapes) or control characters."""
    from bot.user_input import clean_text

    return (clean_text(value).strip() or None) if value is not None else None


def _quiet_broken_pipe() -> int:
    """The reader of our output went away (`helpdesk status | head`): stop quietly, like other Unix tools."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # so that the interpreter's final flush does not fail again
    return 141  # 128 + SIGPIPE, what a shell reports for a command cut off by its pipe


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `helpdesk` console script."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    import bot  # noqa: F401  (sets the offline environment first)
    from bot.settings import invalid_settings

    for stream in (sys.stdout, sys.stderr):  # file names and arguments may hold undecodable bytes
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except HelpdeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ValidationError, SettingsError) as exc:  # Settings() built by a command outside this module
        if isinstance(exc, ValidationError) and exc.title != "Settings":
            raise
        print(f"error: {invalid_settings(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
