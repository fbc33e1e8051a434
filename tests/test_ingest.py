"""Incremental ingestion against a real embedded Chroma and a real `chroma run` server (same tests)."""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

from bot.components import build_components
from bot.settings import Settings
from tests.conftest import SUBSET


def _visible_by_doc(store) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for c in store.current_chunks():
        out[c.doc_id].add(c.id)
    return out


def test_ingest_then_second_run_is_a_noop(backend_settings: Settings, library: Path, embedder) -> None:
    comps = build_components(backend_settings, embedder=embedder)
    first = comps.pipeline.run([library], progress=False)
    assert (first.added, first.updated, first.removed, first.failed) == (len(SUBSET), 0, 0, 0)
    assert first.chunks == len(comps.store.current_chunks()) == comps.store.count_chunks()
    assert first.embedded == embedder.texts > 0
    assert first.line().startswith(f"added {len(SUBSET)}, updated 0, unchanged 0, removed 0, failed 0, chunks ")

    embedder.texts = 0
    second = comps.pipeline.run([library], progress=False)
    assert (second.added, second.updated, second.unchanged, second.removed) == (0, 0, len(SUBSET), 0)
    assert second.chunks == first.chunks
    assert embedder.texts == 0, "an unchanged library must not be re-embedded"


def test_chunks_carry_metadata(backend_settings: Settings, library: Path, embedder) -> None:
    comps = build_components(backend_settings, embedder=embedder)
    comps.pipeline.run([library], progress=False)
    chunks = [c for c in comps.store.current_chunks() if c.doc_id == "clusterfy-project-summary"]
    assert chunks, "front-matter id is the document id"
    c = chunks[-1]
    assert c.title == "ClusterFY project description"
    assert c.doc_type == "project_summary"
    assert c.project == "ClusterFY"
    assert "clusters" in c.topics
    assert c.source_url.startswith("https://www.interregeurope.eu/")
    assert c.source_path == "clusterfy-project-summary.md"
    assert len(c.content_hash) == 64
    assert c.section == "ClusterFY > Clusters, Innovation and Smart Specialization"
    assert not c.text.startswith("#"), "the heading is metadata, not part of the quote"
    reply = [c for c in comps.store.current_chunks() if c.doc_id == "helpdesk-clusters-green-digital-transition"]
    assert {c.section for c in reply} >= {
        "Policy insights 1. Cluster organisations",
        "Policy Insights 2. Clusters and Interreg Europe Good Practices",
    }


def test_edit_replaces_only_that_document(backend_settings: Settings, library: Path, embedder) -> None:
    comps = build_components(backend_settings, embedder=embedder)
    comps.pipeline.run([library], progress=False)
    before = _visible_by_doc(comps.store)
    target = "helpdesk-clusters-green-digital-transition"
    path = library / f"{target}.md"
    path.write_text(path.read_text() + "\n\nA new closing paragraph about peer reviews in Lapland.\n")

    embedder.texts = 0
    summary = comps.pipeline.run([library], progress=False)
    assert (summary.added, summary.updated, summary.unchanged, summary.removed) == (0, 1, len(SUBSET) - 1, 0)
    after = _visible_by_doc(comps.store)
    assert after[target].isdisjoint(before[target]), "the edited document's chunks are all new"
    for doc_id in before:
        if doc_id != target:
            assert after[doc_id] == before[doc_id], f"{doc_id} must not change"
    # embedding cache: only the changed chunk(s) are re-embedded
    assert 0 < embedder.texts < len(after[target])
    assert comps.store.count_chunks() == sum(len(v) for v in after.values()), "old version fully removed"
    assert any("Lapland" in c.text for c in comps.store.current_chunks() if c.doc_id == target)


def test_delete_and_rename(backend_settings: Settings, library: Path, embedder) -> None:
    note = library / "notes" / "visit-report.txt"
    note.parent.mkdir()
    note.write_text("Study visit report\n\nThe delegation visited the Textile Recycling Valley in Roubaix.\n")
    comps = build_components(backend_settings, embedder=embedder)
    comps.pipeline.run([library], progress=False)
    assert "notes/visit-report" in comps.store.documents(), "id = relative path without extension"

    (library / "clusterfy-project-summary.md").unlink()
    note.rename(library / "notes" / "roubaix-visit.txt")
    summary = comps.pipeline.run([library], progress=False)
    assert (summary.added, summary.removed) == (1, 2)
    docs = comps.store.documents()
    assert "clusterfy-project-summary" not in docs
    assert "notes/visit-report" not in docs
    assert "notes/roubaix-visit" in docs
    raw_docs = {doc_id for _, doc_id, _ in comps.store.raw_chunk_versions()}
    assert "clusterfy-project-summary" not in raw_docs and "notes/visit-report" not in raw_docs


def test_front_matter_id_rename_keeps_the_document(backend_settings: Settings, library: Path, embedder) -> None:
    comps = build_components(backend_settings, embedder=embedder)
    comps.pipeline.run([library], progress=False)
    shutil.move(library / "clusterfy-project-summary.md", library / "clusterfy.md")
    embedder.texts = 0
    summary = comps.pipeline.run([library], progress=False)
    assert (summary.added, summary.updated, summary.removed) == (0, 1, 0)
    assert comps.store.documents()["clusterfy-project-summary"].source_path == "clusterfy.md"
    assert embedder.texts == 0, "same text, same embeddings: served from the cache"


def test_reset_rebuilds(backend_settings: Settings, library: Path, embedder) -> None:
    comps = build_components(backend_settings, embedder=embedder)
    comps.pipeline.run([library], progress=False)
    summary = comps.pipeline.run([library], reset=True, progress=False)
    assert summary.added == len(SUBSET)
    assert len(comps.store.documents()) == len(SUBSET)


def test_another_embedding_model_needs_a_reindex_said_clearly(tmp_path: Path, library: Path, monkeypatch) -> None:
    import os
    import subprocess
    import sys

    import pytest

    from bot.errors import IndexMismatch
    from bot.models import load_embedder

    settings = Settings(chroma_path=tmp_path / "idx", embed_model="random")
    build_components(settings, embedder=load_embedder("random")).pipeline.run([library], progress=False)
    with pytest.raises(IndexMismatch, match=r"built with the embedding model 'random' \(64-d\).*ingest --reset"):
        build_components(Settings(chroma_path=tmp_path / "idx"))
    env = {**os.environ, "HELPDESK_CHROMA_PATH": str(tmp_path / "idx"), "HELPDESK_CORPUS_DIR": str(library)}
    cli = [sys.executable, "-m", "bot.cli"]
    res = subprocess.run([*cli, "status"], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "ingest --reset" in res.stderr and "Traceback" not in res.stderr
    res = subprocess.run([*cli, "ingest", "--reset", "--quiet"], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and f"added {len(SUBSET)}," in res.stdout
    assert build_components(Settings(chroma_path=tmp_path / "idx")).embedder.model_name == "use-multilingual"
