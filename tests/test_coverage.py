"""Coverage map: topic × country counts, the fallback topic, gaps in words, CSV totals, PNG, CLI, uploads."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from bot.cli import main
from bot.components import build_components
from bot.coverage import (
    ALL_COUNTRIES,
    ALL_TOPICS,
    NO_COUNTRY,
    NO_TOPIC,
    coverage_csv,
    coverage_map,
    coverage_markdown,
    write_coverage,
)
from bot.settings import Settings
from bot.types import DocumentRecord
from bot.ui.library import ingest_uploads


def rec(doc_id: str, topics: list[str], country: str, n: int, doc_type: str = "article") -> DocumentRecord:
    return DocumentRecord(
        doc_id=doc_id, version="v", title=doc_id, topics=topics, country=country, n_chunks=n, doc_type=doc_type
    )


RECORDS = [
    rec("a", ["clusters", "SMEs"], "Italy", 4),
    rec("b", ["clusters"], "Spain", 2),
    rec("c", ["SMEs"], "Italy", 3),
    rec("d", [], "Spain", 5, doc_type="good_practice"),
    rec("e", [], "", 1, doc_type=""),
]


def test_counts_fallbacks_and_gaps() -> None:
    cov = coverage_map(RECORDS)
    assert cov.documents[("clusters", "Italy")] == 1 and cov.passages[("clusters", "Italy")] == 4
    assert cov.documents[("SMEs", "Italy")] == 2 and cov.passages[("SMEs", "Italy")] == 7
    assert cov.documents[("type: good practice", "Spain")] == 1  # no topics: its document type
    assert cov.documents[(NO_TOPIC, NO_COUNTRY)] == 1  # neither topics nor type nor country
    assert cov.total_documents == 5 and cov.total_passages == 15
    lines = cov.gap_lines()
    assert "no document on SMEs from Spain, (no country)" in lines
    assert "no document on clusters from (no country)" in lines
    md = coverage_markdown(cov)
    assert "| clusters | 1 (4) | 1 (2) |  |" in md
    assert "- no document on SMEs from Spain, (no country)" in md


def test_csv_totals_count_each_document_once() -> None:
    rows = list(csv.DictReader(io.StringIO(coverage_csv(coverage_map(RECORDS)))))
    total = [r for r in rows if r["topic"] == ALL_TOPICS and r["country"] == ALL_COUNTRIES]
    assert total == [{"topic": ALL_TOPICS, "country": ALL_COUNTRIES, "documents": "5", "passages": "15"}]
    italy = next(r for r in rows if r["topic"] == ALL_TOPICS and r["country"] == "Italy")
    assert italy["documents"] == "2"  # document a has two topics but counts once
    assert {"topic": "clusters", "country": "(no country)", "documents": "0", "passages": "0"} in rows


def _csv_total(path: Path) -> int:
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    return int(next(r for r in rows if r["topic"] == ALL_TOPICS and r["country"] == ALL_COUNTRIES)["documents"])


@pytest.mark.slow
def test_cli_and_upload_show_in_the_map(tmp_path: Path, library: Path, embedder, monkeypatch) -> None:
    settings = Settings(chroma_path=tmp_path / "index", collection="cov", corpus_dir=library)
    comps = build_components(settings, embedder=embedder)
    comps.pipeline.run([library], progress=False)
    n_docs = len(comps.store.documents())
    paths = write_coverage(comps.store.documents().values(), tmp_path / "before")
    assert _csv_total(paths["csv"]) == n_docs
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths["png"].stat().st_size > 5000
    assert "no document on" in paths["markdown"].read_text(encoding="utf-8")

    upload = tmp_path / "incoming" / "note.md"
    upload.parent.mkdir()
    upload.write_text(
        "---\ntitle: Beekeeping cooperatives in Lapland\ncountry: Finland\ntopics: [beekeeping]\n---\n"
        "# Beekeeping\n\nLapland's beekeeping cooperatives share extraction equipment across villages.\n",
        encoding="utf-8",
    )
    report = ingest_uploads(comps.pipeline, comps.retriever, [(upload, "note.md")], library, 5.0)
    assert not report.errors, report.markdown()
    cov = coverage_map(comps.store.documents().values())
    assert cov.documents[("beekeeping", "Finland")] == 1
    assert cov.total_documents == n_docs + 1

    comps.close()
    monkeypatch.setenv("HELPDESK_CHROMA_PATH", str(tmp_path / "index"))
    monkeypatch.setenv("HELPDESK_COLLECTION", "cov")
    assert main(["coverage", "--out", str(tmp_path / "after")]) == 0
    assert _csv_total(tmp_path / "after" / "coverage.csv") == n_docs + 1
    assert (tmp_path / "after" / "coverage.png").exists()
