"""Every bad file gets a one-line error naming it and the reason; it never stops the others."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.components import build_components
from bot.settings import Settings
from tests.conftest import SUBSET
from tests.pdfs import write_pdf

PAGES = [
    "Apple orchards in the Vinschgau valley receive innovation vouchers for cold storage research.",
    "Pear growers in Flanders cooperate with the university of Leuven on pest monitoring sensors.",
    "Cherry producers in Jerte valley use a cluster organisation to export to Asian markets.",
]


def _bad_library(lib: Path) -> dict[str, str]:
    """Write one file per bad case; return {file name: expected reason fragment}."""
    ok_pdf = write_pdf(lib / "fruit.pdf", PAGES).read_bytes()
    write_pdf(lib / "locked.pdf", ["secret budget"], encrypt="s3cret")
    write_pdf(lib / "scanned.pdf", ["x"], with_text=False)
    (lib / "broken.pdf").write_bytes(ok_pdf[: len(ok_pdf) // 3])
    (lib / "fake.pdf").write_text("this is not a pdf at all")
    (lib / "empty.md").write_text("")
    (lib / "blank.txt").write_text("   \n\n  ")
    (lib / "image.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (lib / "latin1.txt").write_bytes("Région Île-de-France, coopération".encode("latin-1"))
    (lib / "report.docx").write_bytes(b"PK\x03\x04 fake docx")
    (lib / "only-front-matter.md").write_text("---\ntitle: Nothing\n---\n")
    return {
        "locked.pdf": "encrypted PDF: a password is required",
        "scanned.pdf": "no extractable text",
        "broken.pdf": "broken PDF",
        "fake.pdf": "not a PDF file",
        "empty.md": "file is empty",
        "blank.txt": "file is empty",
        "image.md": "binary content",
        "latin1.txt": "not valid UTF-8",
        "report.docx": "unsupported file type '.docx'",
        "only-front-matter.md": "no text after the front matter",
    }


def test_each_bad_file_has_its_message_and_others_are_ingested(library: Path, embedder) -> None:
    expected = _bad_library(library)
    comps = build_components(Settings(), embedder=embedder)
    summary = comps.pipeline.run([library], progress=False)
    messages = {Path(e.path).name: str(e) for e in summary.errors}
    assert set(messages) == set(expected)
    for name, reason in expected.items():
        assert name in messages[name] and reason in messages[name], messages[name]
        assert "\n" not in messages[name]
    assert summary.failed == len(expected)
    assert summary.added == len(SUBSET) + 1  # the good files and fruit.pdf
    assert summary.line().endswith(f"failed {len(expected)}, chunks {summary.chunks} in {summary.seconds:.1f} s")


def test_bad_front_matter_warns_and_falls_back(library: Path, embedder) -> None:
    (library / "bad-yaml.md").write_text(
        "---\ntitle: [unclosed\ncountry: Italy\n---\n# Piedmont clusters\n\nSeven clusters.\n"
    )
    (library / "no-title.md").write_text("---\ncountry: Italy\ntopics: clusters, S3\n---\n# Emilia-Romagna\n\nText.\n")
    (library / "list-title.md").write_text("---\ntitle: Valid\ncountry: [a, b]\n---\nBody text here.\n")
    comps = build_components(Settings(), embedder=embedder)
    summary = comps.pipeline.run([library], progress=False)
    assert summary.failed == 0
    docs = comps.store.documents()
    assert docs["bad-yaml"].title == "Piedmont clusters"
    assert docs["no-title"].title == "Emilia-Romagna" and docs["no-title"].topics == ["clusters", "S3"]
    assert docs["list-title"].country == ""
    warnings = "\n".join(summary.warnings)
    assert "bad-yaml.md: front matter is not valid YAML" in warnings
    assert "no-title.md: front matter has no 'title'" in warnings
    assert "list-title.md: front matter 'country' should be text" in warnings


def test_pdf_chunks_have_the_right_page(library: Path, embedder) -> None:
    pdf = write_pdf(library / "fruit.pdf", PAGES)
    (pdf.parent / "fruit.pdf.meta.yaml").write_text(
        "id: fruit-brief\ntitle: Fruit innovation brief\ndoc_type: policy_brief\ncountry: EU\n"
        "source_url: https://example.org/fruit.pdf\n"
    )
    comps = build_components(Settings(), embedder=embedder)
    comps.pipeline.run([pdf], progress=False)
    chunks = [c for c in comps.store.current_chunks() if c.doc_id == "fruit-brief"]
    by_page = {c.page: c.text for c in chunks}
    assert set(by_page) == {1, 2, 3}
    assert "Vinschgau" in by_page[1] and "Leuven" in by_page[2] and "Jerte" in by_page[3]
    assert {c.title for c in chunks} == {"Fruit innovation brief"}
    assert {c.source_url for c in chunks} == {"https://example.org/fruit.pdf"}
    assert comps.store.documents()["fruit-brief"].pages == 3


def test_a_broken_update_keeps_the_last_good_version(library: Path, embedder) -> None:
    comps = build_components(Settings(), embedder=embedder)
    comps.pipeline.run([library], progress=False)
    target = library / "clusterfy-project-summary.md"
    before = {c.id for c in comps.store.current_chunks() if c.doc_id == "clusterfy-project-summary"}
    target.write_bytes(b"\xff\xfe\x00garbage")
    summary = comps.pipeline.run([library], progress=False)
    assert summary.failed == 1 and summary.removed == 0
    after = {c.id for c in comps.store.current_chunks() if c.doc_id == "clusterfy-project-summary"}
    assert after == before, "a file that turns bad is not lost from the index"


@pytest.mark.slow
def test_cli_exit_code_and_messages(library: Path, tmp_path: Path) -> None:
    (library / "empty.md").write_text("")
    env = {**os.environ, "HELPDESK_CHROMA_PATH": str(tmp_path / "cli-index"), "HELPDESK_CORPUS_DIR": str(library)}
    cli = [sys.executable, "-m", "bot.cli"]
    res = subprocess.run([*cli, "ingest", "--quiet"], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 1
    assert f"error: {library / 'empty.md'}: file is empty" in res.stderr
    assert f"added {len(SUBSET)}, updated 0, unchanged 0, removed 0, failed 1" in res.stdout
    status = subprocess.run([*cli, "status", "--json"], env=env, capture_output=True, text=True, timeout=120)
    import json

    info = json.loads(status.stdout)
    comps = build_components(Settings(chroma_path=tmp_path / "cli-index"))
    assert info["documents"] == len(comps.store.documents()) == len(SUBSET)
    assert info["chunks"] == len(comps.store.current_chunks()) == info["stored_chunks"]
    assert info["embed_model"] == "use-multilingual"
