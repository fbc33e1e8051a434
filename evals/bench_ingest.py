"""`helpdesk bench ingest`: ingest throughput, memory and index size of the replicated library, per run.

For each scale s the corpus folder is replicated s times with unique document ids and titles (so every
replica's chunks have distinct embedded text and the embedding cache cannot hide the cost; see
evals/bench_replica.py), then ingested into a fresh embedded Chroma in a child process of its own, so that the
peak RSS is per run. In that child the raw embedder is also timed on the very same chunks, giving the
pipeline's overhead as a ratio (pipeline chunks/s ÷ raw chunks/s). ingest.md is written by evals/bench_report.py.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import HelpdeskError, IngestError
from bot.settings import Settings
from evals.bench_common import load_1m, machine_info, parse_scales
from evals.bench_replica import replicate_library
from evals.bench_report import markdown_report, markdown_table

# ---- one measured run (in a fresh child process) -----------------------------------------------


@dataclass
class BenchJob:
    """One run: ingest `library` into a fresh store described by `settings`."""

    label: str
    scale: int
    library: Path
    settings: Settings


def _peak_rss_mb() -> float:
    """This process's peak resident set size in MB (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dir_size_mb(path: Path) -> float:
    """Total size of the files under `path` in MB."""
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return total / 1e6


def _cpu_s() -> float:
    """CPU seconds (user + system, all threads) this process and its ended children (the ingest's PDF
    worker) have used so far."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _rate(n: float, seconds: float) -> float:
    return n / seconds if seconds > 0 else 0.0


def measure_ingest(job: BenchJob) -> dict[str, Any]:
    """Ingest, re-ingest and raw-embed in this process; return the run's metrics (run in a fresh child)."""
    import bot  # noqa: F401  (offline environment)
    from bot.components import build_components

    settings = job.settings
    t0 = time.perf_counter()
    comps = build_components(settings)
    comps.embedder.encode(["warm-up: load the model before timing anything"])
    model_load_s = time.perf_counter() - t0

    load_start = load_1m()
    cpu0 = _cpu_s()
    summary = comps.pipeline.run([job.library], progress=False)
    ingest_cpu_s = _cpu_s() - cpu0
    rss_ingest = _peak_rss_mb()
    records = comps.store.documents()
    files = summary.added + summary.updated + summary.unchanged
    pages = sum(r.pages for r in records.values())

    again = comps.pipeline.run([job.library], progress=False)

    # the same chunks in the order the pipeline embedded them (file order, then reading order), so that batches
    # mix passages of the same lengths as in the ingest at every scale (padding makes batch cost length-bound)
    chunks = sorted(comps.store.current_chunks(), key=lambda c: (Path(c.source_path).parts, c.chunk_index))
    texts = [c.embed_text() for c in chunks]
    batch = max(1, settings.embed_batch_size)
    comps.embedder.encode(texts[:batch])  # warm-up on real passages
    t0, cpu0 = time.perf_counter(), _cpu_s()
    for start in range(0, len(texts), batch):
        comps.embedder.encode(texts[start : start + batch])
    raw_s = time.perf_counter() - t0
    raw_cpu_s = _cpu_s() - cpu0
    # the sentences the pipeline also embeds (their vectors are stored for the answers; shared within a
    # document only, as the pipeline does), embedded alone
    stored = comps.store.sentence_vectors([c.id for c in chunks])
    per_doc: dict[str, dict[str, None]] = {}
    for c in chunks:
        per_doc.setdefault(c.doc_id, {}).update(dict.fromkeys(stored[c.id].texts if c.id in stored else []))
    sentences = [t for texts in per_doc.values() for t in texts]
    t0, cpu0 = time.perf_counter(), _cpu_s()
    for start in range(0, len(sentences), batch):
        comps.embedder.encode(sentences[start : start + batch])
    raw_sent_s = time.perf_counter() - t0
    raw_sent_cpu_s = _cpu_s() - cpu0
    extract_s, extract_pages = measure_extraction(library_files(records))

    pipeline_cps = _rate(summary.chunks, summary.seconds)
    raw_cps = _rate(len(texts), raw_s)
    return {
        "label": job.label,
        "scale": job.scale,
        "files": files,
        "failed": summary.failed,
        "errors": [str(e) for e in summary.errors[:10]],
        "chunks": summary.chunks,
        "embedded": summary.embedded,
        "pages": pages,
        "ingest_s": round(summary.seconds, 3),
        "files_per_s": round(_rate(files, summary.seconds), 3),
        "chunks_per_s": round(pipeline_cps, 2),
        "pages_per_s": round(_rate(pages, summary.seconds), 2) if pages else None,
        "raw_embed_chunks": len(texts),
        "raw_embed_s": round(raw_s, 3),
        "raw_chunks_per_s": round(raw_cps, 2),
        "pipeline_vs_raw": round(pipeline_cps / raw_cps, 3) if raw_cps else 0.0,
        "sentences": len(sentences),
        "raw_sentence_embed_s": round(raw_sent_s, 3),
        "raw_sentence_embed_cpu_s": round(raw_sent_cpu_s, 2),
        # the whole embedding work (chunks and sentences) alone, against the whole pipeline
        "pipeline_vs_raw_work": round((raw_s + raw_sent_s) / summary.seconds, 3) if summary.seconds else 0.0,
        "pipeline_vs_raw_work_cpu": round((raw_cpu_s + raw_sent_cpu_s) / ingest_cpu_s, 3) if ingest_cpu_s else 0.0,
        "extract_s": round(extract_s, 3),
        "extract_pages_per_s": round(_rate(extract_pages, extract_s), 2) if extract_pages else None,
        "ingest_cpu_s": round(ingest_cpu_s, 2),
        "raw_embed_cpu_s": round(raw_cpu_s, 2),
        # the same ratio in CPU time: less sensitive to other processes sharing the machine
        "pipeline_vs_raw_cpu": round((raw_cpu_s / len(texts)) / (ingest_cpu_s / summary.chunks), 3)
        if texts and summary.chunks and ingest_cpu_s > 0
        else 0.0,
        "load_avg_1m": [load_start, load_1m()],
        "model_load_s": round(model_load_s, 3),
        "peak_rss_mb": round(rss_ingest, 1),
        "peak_rss_total_mb": round(_peak_rss_mb(), 1),
        "index_mb": round(dir_size_mb(settings.chroma_path), 2),
        "reingest_s": round(again.seconds, 3),
        "reingest_unchanged": again.unchanged,
        "reingest_embedded": again.embedded,
        "reingest_ok": again.unchanged == files and again.embedded == 0 and again.failed == 0,
    }


def library_files(records: dict[str, Any]) -> list[tuple[Path, Path]]:
    """(file, library root) of every committed document."""
    return [(Path(r.source_root) / r.source_path, Path(r.source_root)) for r in records.values()]


def measure_extraction(files: list[tuple[Path, Path]]) -> tuple[float, int]:
    """Seconds to load (parse, extract the text of) every file alone, and the pages loaded."""
    from ingest.loaders import load_document

    pages = 0
    t0 = time.perf_counter()
    for path, root in files:
        try:
            pages += load_document(path, root).pages
        except IngestError:
            continue
    return time.perf_counter() - t0, pages


def run_in_child(job: BenchJob) -> dict[str, Any]:
    """Run `measure_ingest(job)` in a new process forked from a small fork server.

    A forked or spawned child inherits its parent's RSS high-water mark (fork copies the page tables, and
    exec keeps the old address space's peak in ru_maxrss), so children are forked from the small fork
    server instead: each one's ru_maxrss is then its own.
    """
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(measure_ingest, job).result()


# ---- the command -------------------------------------------------------------------------------


def cmd_bench_ingest(args: argparse.Namespace) -> int:
    """`helpdesk bench ingest`: run every scale (and the PDF folder), write ingest.json and ingest.md."""
    base = Settings()
    corpus = Path(args.corpus) if args.corpus else base.corpus_dir
    if not corpus.is_dir():
        raise HelpdeskError(f"corpus folder not found: {corpus}")
    pdf_dir = Path(args.pdf_dir) if args.pdf_dir else None
    if pdf_dir is not None and not pdf_dir.is_dir():
        raise HelpdeskError(f"PDF folder not found: {pdf_dir}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="helpdesk-bench-") as tmp_name:
        tmp = Path(tmp_name)
        # (label, scale, folder, replicate it?): the PDF folder is ingested in place, once
        jobs: list[tuple[str, int, Path, bool]] = [(f"corpus x{s}", s, corpus, True) for s in args.scale]
        if pdf_dir is not None:
            jobs.append(("pdf x1", 1, pdf_dir.resolve(), False))
        for i, (label, scale, src, replicate) in enumerate(jobs):
            library = tmp / f"library{i}" if replicate else src
            if replicate:
                n = replicate_library(src, library, scale)
                log(f"bench ingest: {label} ({n * scale} files) ...")
            else:
                log(f"bench ingest: {label} ({library}) ...")
            settings = base.model_copy(
                update={"chroma_path": tmp / f"index{i}", "collection": f"bench{i}", "chroma_host": None}
            )
            run = run_in_child(BenchJob(label=label, scale=scale, library=library, settings=settings))
            log(
                f"  {run['files']} files, {run['chunks']} chunks in {run['ingest_s']:.1f} s "
                f"({run['chunks_per_s']:.1f} chunks/s, raw {run['raw_chunks_per_s']:.1f}); "
                f"re-ingest {run['reingest_s']:.2f} s"
            )
            for err in run["errors"]:
                log(f"  error: {err}")
            runs.append(run)
            if replicate:
                shutil.rmtree(library, ignore_errors=True)
            shutil.rmtree(settings.chroma_path, ignore_errors=True)

    report = {
        "machine": machine_info(),
        "embed_model": base.embed_model,
        "embed_batch_size": base.embed_batch_size,
        "chunk_size": base.chunk_size,
        "chunk_overlap": base.chunk_overlap,
        "corpus": str(corpus.resolve()),
        "pdf_dir": str(pdf_dir.resolve()) if pdf_dir is not None else None,
        "runs": runs,
    }
    (out / "ingest.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "ingest.md").write_text(markdown_report(report), encoding="utf-8")
    print(markdown_table(runs))
    print(f"\nwrote {out / 'ingest.json'} and {out / 'ingest.md'}")
    ok = all(r["reingest_ok"] and not r["failed"] for r in runs)
    return 0 if ok else 1


def add_ingest_parser(bench_sub: argparse._SubParsersAction) -> None:
    """Register `helpdesk bench ingest`."""
    p = bench_sub.add_parser("ingest", help="ingest throughput, memory and index size at several library sizes")
    p.add_argument(
        "--scale",
        type=parse_scales,
        default=[1, 10],
        help="comma-separated copies of the corpus to ingest, one fresh run each (default: 1,10)",
    )
    p.add_argument("--corpus", help="folder to replicate (default: HELPDESK_CORPUS_DIR)")
    p.add_argument("--pdf-dir", help="also ingest this folder of PDFs once and report pages/s")
    p.add_argument("--out", required=True, help="folder for ingest.json and ingest.md")
    p.set_defaults(func=cmd_bench_ingest)
