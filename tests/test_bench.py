"""`helpdesk bench ingest`: replicated libraries with unique ids, per-run child processes, the report files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import frontmatter
import pytest
import yaml

from bot.cli import main
from evals.bench_replica import replicate_library, write_replica
from ingest.loaders import load_document
from tests.conftest import CORPUS

# Four short documents of the default corpus (one or two chunks each) keep the benchmark under a minute.
SMALL = [
    "clusterix2-final-event-future-clusters.md",
    "event-making-edihs-work-for-smes.md",
    "oecd-competitive-regional-clusters-2007.md",
    "pb-vouchers-competitiveness-smes-2021.md",
]


def _small_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "small-corpus"
    corpus.mkdir()
    for name in SMALL:
        shutil.copy(CORPUS / name, corpus / name)
    return corpus


def test_write_replica_replaces_multiline_values_and_adds_missing_keys(tmp_path: Path) -> None:
    fields = {"id": "abc-copy1", "title": 'A "quoted" title (copy 1)'}
    src = tmp_path / "a.md"
    src.write_text('---\nid: abc\ntitle: >-\n  A long\n  folded title\ncountry: "FR"\n---\n\nBody text.\n')
    write_replica(src, tmp_path / "copy1" / "a.md", fields)
    post = frontmatter.load(tmp_path / "copy1" / "a.md")
    assert post.metadata == {"id": "abc-copy1", "title": 'A "quoted" title (copy 1)', "country": "FR"}
    assert post.content == "Body text."
    (tmp_path / "b.md").write_text("No front matter.\n")
    write_replica(tmp_path / "b.md", tmp_path / "copy1" / "b.md", {"id": "x", "title": "T"})
    assert frontmatter.load(tmp_path / "copy1" / "b.md").metadata == {"id": "x", "title": "T"}
    (tmp_path / "c.pdf").write_bytes(b"%PDF-1.4")  # a sidecar is created; an existing one is rewritten
    write_replica(tmp_path / "c.pdf", tmp_path / "copy1" / "c.pdf", {"id": "x", "title": "T"})
    assert yaml.safe_load((tmp_path / "copy1" / "c.pdf.meta.yaml").read_text()) == {"id": "x", "title": "T"}
    (tmp_path / "c.pdf.meta.yaml").write_text("id: c\ntitle: >-\n  Folded\n  title\nyear: 2021\n")
    write_replica(tmp_path / "c.pdf", tmp_path / "copy2" / "c.pdf", {"id": "c-copy2", "title": "Folded title (copy 2)"})
    side = yaml.safe_load((tmp_path / "copy2" / "c.pdf.meta.yaml").read_text())
    assert side == {"id": "c-copy2", "title": "Folded title (copy 2)", "year": 2021}


def test_replicas_have_unique_ids_and_titles(tmp_path: Path) -> None:
    corpus = _small_corpus(tmp_path)
    assert replicate_library(corpus, tmp_path / "lib", 3) == len(SMALL)
    docs = [load_document(p, tmp_path / "lib") for p in sorted((tmp_path / "lib").rglob("*.md"))]
    assert len(docs) == 3 * len(SMALL)
    assert len({d.doc_id for d in docs}) == len(docs)
    assert len({d.title for d in docs}) == len(docs)
    copy2 = [d for d in docs if d.doc_id.endswith("-copy2")]
    assert len(copy2) == len(SMALL) and all(d.title.endswith(" (copy 2)") for d in copy2)
    assert all(d.parts[0].text for d in copy2)


def test_bench_ingest_scales(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = _small_corpus(tmp_path)
    out = tmp_path / "bench-out"
    code = main(["bench", "ingest", "--scale", "1,2", "--corpus", str(corpus), "--out", str(out)])
    assert code == 0
    assert "| corpus x2 |" in capsys.readouterr().out

    report = json.loads((out / "ingest.json").read_text())
    assert (out / "ingest.md").read_text().count("| corpus x") == 2
    assert report["machine"]["cpu_count"] >= 1 and report["machine"]["ram_gb"] > 0
    one, two = report["runs"]
    assert [one["label"], two["label"]] == ["corpus x1", "corpus x2"]
    assert (one["files"], two["files"]) == (len(SMALL), 2 * len(SMALL))
    assert one["chunks"] > 0 and two["chunks"] == 2 * one["chunks"]
    assert two["embedded"] == 2 * one["embedded"]  # the copies' chunks are not served from the embed cache
    for run in (one, two):
        assert run["failed"] == 0
        assert run["reingest_unchanged"] == run["files"] and run["reingest_embedded"] == 0 and run["reingest_ok"]
        assert run["pipeline_vs_raw"] > 0 and run["pipeline_vs_raw_cpu"] > 0
        assert run["raw_chunks_per_s"] > 0 and run["chunks_per_s"] > 0
        assert run["peak_rss_mb"] > 0 and run["index_mb"] > 0


def test_bench_query_writes_per_stage_latency_per_scale(tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        '{"id": "a", "question": "Who organised the CLUSTERIX 2.0 final workshop?", "gold_doc_ids": []}\n'
        '{"id": "b", "question": "How big are innovation vouchers for SMEs?", "gold_doc_ids": []}\n'
    )
    out = tmp_path / "bench"
    args = ["bench", "query", "--scale", "1,3", "--corpus", str(_small_corpus(tmp_path))]
    assert main([*args, "--questions", str(questions), "--repeats", "1", "--out", str(out)]) == 0
    report = json.loads((out / "query.json").read_text())
    x1, x3 = report["runs"]
    assert (x1["scale"], x3["scale"]) == (1, 3)
    assert x3["chunks"] == 3 * x1["chunks"] > 0 and x3["documents"] == 3 * x1["documents"] == 12
    for run in (x1, x3):
        assert run["queries"] == 2
        for stage in ("embed_ms", "retrieval_ms", "answer_ms", "end_to_end_ms"):
            assert 0 <= run[stage]["p50"] <= run[stage]["p95"] <= run[stage]["max"]
        assert run["end_to_end_ms"]["p50"] > 0
    assert "| ×3 | 12 |" in (out / "query.md").read_text()
