"""The report of `helpdesk bench ingest`: the runs as a Markdown table and ingest.md around it."""

from __future__ import annotations

from typing import Any

_COLUMNS: list[tuple[str, str]] = [
    ("run", "label"),
    ("files", "files"),
    ("chunks", "chunks"),
    ("pages", "pages"),
    ("ingest s", "ingest_s"),
    ("files/s", "files_per_s"),
    ("chunks/s", "chunks_per_s"),
    ("pages/s", "pages_per_s"),
    ("raw embed chunks/s", "raw_chunks_per_s"),
    ("pipeline/raw", "pipeline_vs_raw"),
    ("pipeline/raw (CPU time)", "pipeline_vs_raw_cpu"),
    ("sentences", "sentences"),
    ("pipeline/raw work (CPU time)", "pipeline_vs_raw_work_cpu"),
    ("text extraction pages/s", "extract_pages_per_s"),
    ("peak RSS MB", "peak_rss_mb"),
    ("index MB", "index_mb"),
    ("no-change re-ingest s", "reingest_s"),
    ("load 1m start→end", "load_avg_1m"),
]


def _cell(key: str, value: Any) -> str:
    if value is None or (key in ("pages", "pages_per_s", "extract_pages_per_s") and not value):
        return "–"
    if key == "load_avg_1m" and isinstance(value, list):
        return "→".join(f"{v:.1f}" for v in value)
    if key == "reingest_s":
        return f"{value:.2f}"
    if key in ("ingest_s", "files_per_s", "chunks_per_s", "pages_per_s", "raw_chunks_per_s", "extract_pages_per_s"):
        return f"{value:.1f}" if value >= 10 else f"{value:.2f}"
    if key in ("pipeline_vs_raw", "pipeline_vs_raw_cpu", "pipeline_vs_raw_work_cpu"):
        return f"{value:.2f}"
    if key in ("peak_rss_mb", "index_mb"):
        return f"{value:.0f}" if value >= 10 else f"{value:.1f}"
    return str(value)


def markdown_table(runs: list[dict[str, Any]]) -> str:
    """The runs as a Markdown table."""
    head = "| " + " | ".join(name for name, _ in _COLUMNS) + " |"
    rule = "|" + "|".join("---" if key == "label" else "---:" for _, key in _COLUMNS) + "|"
    rows = ["| " + " | ".join(_cell(key, run.get(key)) for _, key in _COLUMNS) + " |" for run in runs]
    return "\n".join([head, rule, *rows])


def markdown_report(report: dict[str, Any]) -> str:
    """ingest.md: machine, settings, the table and how to read it."""
    m = report["machine"]
    lines = [
        "# Ingest benchmark",
        "",
        f"Machine: {m['cpu_count']} × {m['cpu_model']}, {m['ram_gb']} GB RAM, Python {m['python']}. "
        f"Embedder `{report['embed_model']}`, batch {report['embed_batch_size']}, "
        f"chunks of {report['chunk_size']} tokens; embedded Chroma.",
        "",
        markdown_table(report["runs"]),
        "",
        "Each run ingests into a fresh embedded Chroma in a fresh process, with the model loaded beforehand "
        "(load time not counted). Corpus ×s is the corpus folder copied s times with unique ids and titles, "
        "so nothing is served from the embedding cache. *raw embed chunks/s* is the embedder alone on the same "
        "chunks' embedded text, in batches of the configured size; *pipeline/raw* is the share of raw embedding "
        "speed the whole pipeline keeps (parsing, chunking, cache look-ups, Chroma writes), also in CPU time, "
        "which other processes sharing the machine disturb less (see *load*). The pipeline also embeds each chunk's "
        "candidate *sentences* (stored for the answers); *pipeline/raw work* compares the CPU time of embedding the "
        "chunks and those sentences alone with the whole ingest's. *text extraction pages/s* is the loaders alone "
        "(PDF text extraction) on the same files. *peak RSS* is the "
        "run's process peak (ru_maxrss) at the end of the ingest; *index MB* the store's size on disk; the "
        "no-change re-ingest must find every file unchanged and embed nothing.",
    ]
    bad = [r["label"] for r in report["runs"] if not r["reingest_ok"] or r["failed"]]
    if bad:
        lines += ["", f"**Problems** in: {', '.join(bad)} (see ingest.json)."]
    return "\n".join(lines) + "\n"
