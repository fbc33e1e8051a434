"""`helpdesk bench query`: per-stage latency and CPU per answer on any library, replicated ×1, ×10, ×50.

Each library given (`--library PATH`, repeatable; default the corpus) is indexed once; the ×N stores are
built from that index's chunks (and their stored sentence vectors) with unique document ids and the same
embeddings (no re-embedding), so only the store size changes between scales. Replicas share texts: quality
at ×N is not meaningful here, only latency. CPU ms per answer is the process's CPU time (all threads)
spent in `ask`: unlike wall time, another process on the machine barely changes it.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import HelpdeskError
from bot.settings import Settings, load_settings
from evals.bench_common import DEFAULT_QUESTIONS, machine_info, parse_scales, percentiles
from evals.dataset import load_questions


def replicate_store(base_settings: Settings, target: Settings, copies: int) -> tuple[int, int, float]:
    """Write `copies` replicas of the base index's current chunks (reused embeddings) into `target`."""
    from bot.components import build_components

    start = time.perf_counter()
    base = build_components(base_settings).store
    records = base.documents()
    rows = base.current_chunks_with_embeddings()
    sentences = base.sentence_vectors([c.id for c, _, _ in rows])
    store = build_components(target).store
    for k in range(copies):
        suffix = "" if k == 0 else f"-copy{k}"
        chunks, vecs, hashes = [], [], []
        for c, emb, embed_hash in rows:
            chunks.append(replace(c, id=f"{c.id}{suffix}", doc_id=f"{c.doc_id}{suffix}"))
            vecs.append(emb)
            hashes.append(embed_hash)
        for i in range(0, len(chunks), 1000):
            store.add_chunks(chunks[i : i + 1000], vecs[i : i + 1000], hashes[i : i + 1000])
        copied = [
            replace(row, chunk_id=f"{row.chunk_id}{suffix}", doc_id=f"{row.doc_id}{suffix}")
            for row in sentences.values()
        ]
        for i in range(0, len(copied), 500):
            store.add_sentence_vectors(copied[i : i + 500])
        for rec in records.values():
            store.commit_document(replace(rec, doc_id=f"{rec.doc_id}{suffix}"))
    return len(records) * copies, len(rows) * copies, time.perf_counter() - start


def measure(settings: Settings, questions: list, repeats: int) -> dict[str, Any]:
    """Ask every question `repeats` times (after a warm-up) and collect per-stage timings."""
    from bot.components import build_components

    comps = build_components(settings, use_llm=False)
    comps.assistant.warm_up()
    stages: dict[str, list[float]] = {"embed": [], "retrieval": [], "answer": [], "end_to_end": [], "cpu": []}
    for _ in range(repeats):
        for q in questions:
            t0, cpu0 = time.perf_counter(), time.process_time()
            ans = comps.assistant.ask(q.question, q.history)
            total = (time.perf_counter() - t0) * 1000
            stages["cpu"].append((time.process_time() - cpu0) * 1000)
            t = ans.timings
            stages["embed"].append(t.get("embed_ms", 0.0))
            stages["retrieval"].append(t.get("dense_ms", 0.0) + t.get("lexical_ms", 0.0) + t.get("fuse_ms", 0.0))
            stages["answer"].append(t.get("answer_ms", 0.0))
            stages["end_to_end"].append(total)
    cpu_mean = round(float(np.mean(stages["cpu"])), 1) if stages["cpu"] else 0.0
    return (
        {f"{k}_ms": percentiles(v) for k, v in stages.items()}
        | {"cpu_ms_mean": cpu_mean}
        | {"queries": len(stages["end_to_end"])}
    )


def library_label(path: Path, taken: set[str]) -> str:
    """A short name for a library folder, unique among `taken` (and added to it)."""
    stem = re.sub(r"[^a-z0-9]+", "-", path.name.lower()).strip("-") or "library"
    label, n = stem, 2
    while label in taken:
        label, n = f"{stem}-{n}", n + 1
    taken.add(label)
    return label


def cmd_bench_query(args: argparse.Namespace) -> int:
    """Index each library, build its ×N stores, time the questions, write query.json and query.md."""
    from bot.components import build_components  # here, not at import: every `helpdesk` command builds this parser

    settings = load_settings()
    questions = load_questions(Path(args.questions))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    libraries = [Path(p) for p in (args.library or [])] or [Path(args.corpus or settings.corpus_dir)]
    for lib in libraries:
        if not lib.exists():
            raise HelpdeskError(f"library not found: {lib}")
    runs, bases, taken = [], {}, set()
    with tempfile.TemporaryDirectory(prefix="bench-query-") as tmp:
        for n, lib in enumerate(libraries):
            label = library_label(lib, taken)
            base = Settings(
                chroma_path=Path(tmp) / f"base{n}", collection=f"benchbase{n}", embed_model=settings.embed_model
            )
            summary = build_components(base).pipeline.run([lib], progress=False)
            if summary.failed:
                raise HelpdeskError(f"indexing {lib} failed: {summary.errors[0]}")
            bases[label] = {"path": str(lib.resolve()), "ingest": summary.line()}
            for scale in parse_scales(args.scale):
                target = Settings(chroma_path=Path(tmp) / f"lib{n}x{scale}", collection=f"bench{n}x{scale}")
                docs, chunks, build_s = replicate_store(base, target, scale)
                result = measure(target, questions, args.repeats)
                sizes = {"documents": docs, "chunks": chunks, "build_s": round(build_s, 1)}
                runs.append({"library": label, "scale": scale} | sizes | result)
    report = {"machine": machine_info(), "embed_model": settings.embed_model, "libraries": bases, "runs": runs}
    (out / "query.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    lines = [
        "| library | scale | docs | chunks | query embed p50/p95 ms | retrieval p50/p95 ms | answer p50/p95 ms | "
        "end-to-end p50/p95/max ms | CPU ms per answer p50/p95 (mean) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        e, rt, a, t, c = r["embed_ms"], r["retrieval_ms"], r["answer_ms"], r["end_to_end_ms"], r["cpu_ms"]
        lines.append(
            f"| {r['library']} | ×{r['scale']} | {r['documents']} | {r['chunks']} | {e['p50']} / {e['p95']} | "
            f"{rt['p50']} / {rt['p95']} | {a['p50']} / {a['p95']} | {t['p50']} / {t['p95']} / {t['max']} | "
            f"{c['p50']} / {c['p95']} ({r['cpu_ms_mean']}) |"
        )
    m = report["machine"]
    text = f"Machine: {m['cpu_count']} × {m['cpu_model']}, {m['ram_gb']} GB RAM\n\n" + "\n".join(lines) + "\n"
    (out / "query.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


def add_query_parser(bench_sub: argparse._SubParsersAction) -> None:
    """Register `helpdesk bench query`."""
    p = bench_sub.add_parser("query", help="query latency per stage and CPU per answer at several store sizes")
    p.add_argument("--scale", default="1,10,50", help="comma-separated replication factors (default 1,10,50)")
    p.add_argument("--questions", default=str(DEFAULT_QUESTIONS), help="JSONL question file (default: dev set)")
    p.add_argument(
        "--library",
        action="append",
        metavar="PATH",
        help="folder or file to index and query (repeat for several; default: HELPDESK_CORPUS_DIR)",
    )
    p.add_argument("--corpus", help=argparse.SUPPRESS)  # the former name of --library (one folder)
    p.add_argument("--repeats", type=int, default=2, help="passes over the questions per scale")
    p.add_argument("--out", required=True, help="folder for query.json and query.md")
    p.set_defaults(func=cmd_bench_query)
