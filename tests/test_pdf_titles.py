"""PDF titles: a junk embedded title ("TA") gives way to the sidecar, page 1's heading, or the file name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from bot.components import build_components
from bot.settings import Settings
from ingest.loaders import LoaderLimits
from ingest.loaders.base import is_junk_title
from ingest.loaders.pdf import load_pdf

SHARED_PDF = Path("/work/shared/corpus-pdf")
if not SHARED_PDF.exists():
    SHARED_PDF = Path(__file__).resolve().parents[2] / "shared" / "corpus-pdf"


def titled_pdf(path: Path, embedded: str | None, heading: str | None, body: str) -> Path:
    """A one-page PDF with an embedded title, a heading in large type (split over two lines) and body text."""
    c = canvas.Canvas(str(path), pagesize=A4)
    if embedded is not None:
        c.setTitle(embedded)
    y = 780
    if heading:
        words = heading.split()
        half = len(words) // 2 or 1
        for line in (" ".join(words[:half]), " ".join(words[half:])):
            if line:
                c.setFont("Helvetica-Bold", 22)
                c.drawString(60, y, line)
                y -= 30
    c.setFont("Helvetica", 10)
    c.drawString(60, y - 10, body)
    c.showPage()
    c.save()
    return path


@pytest.mark.parametrize(
    "title",
    ["TA", "", "  ", "2019/1999", "wp251rev_en", "final_v2", "Microsoft Word - plan.docx", "Untitled", "Document1"],
)
def test_junk_titles_are_recognised(title: str) -> None:
    assert is_junk_title(title, "some-report")


@pytest.mark.parametrize(
    "title",
    ["Finland’s Integrated Energy and Climate Plan", "Smart specialisation in Navarra", "NECP Austria"],
)
def test_real_titles_are_kept(title: str) -> None:
    assert not is_junk_title(title, "some-report")


def test_own_file_name_is_junk() -> None:
    assert is_junk_title("necp austria 2019", "necp-austria-2019")


def test_junk_embedded_title_gives_way_to_page_heading(tmp_path: Path) -> None:
    pdf = titled_pdf(
        tmp_path / "reg-2021-1060.pdf",
        "TA",
        "Common Provisions Regulation for the European Regional Development Fund",
        "This regulation lays down common financial rules for the funds.",
    )
    doc = load_pdf(pdf, tmp_path, LoaderLimits())
    assert doc.title == "Common Provisions Regulation for the European Regional Development Fund"


def test_good_embedded_title_is_kept(tmp_path: Path) -> None:
    pdf = titled_pdf(tmp_path / "x.pdf", "Vouchers for Basque SMEs", "Annex tables", "Body text of the report here.")
    assert load_pdf(pdf, tmp_path, LoaderLimits()).title == "Vouchers for Basque SMEs"


def test_sidecar_title_wins(tmp_path: Path) -> None:
    pdf = titled_pdf(tmp_path / "x.pdf", "TA", "Some heading of the page", "Body text of the report here.")
    (tmp_path / "x.pdf.meta.yaml").write_text('title: "Cohesion regulation 2021-2027"\n', encoding="utf-8")
    assert load_pdf(pdf, tmp_path, LoaderLimits()).title == "Cohesion regulation 2021-2027"


def test_no_heading_falls_back_to_the_file_name(tmp_path: Path) -> None:
    pdf = titled_pdf(tmp_path / "green_bonds-2020.pdf", "TA", None, "2020 2021 2022 2023")
    assert load_pdf(pdf, tmp_path, LoaderLimits()).title == "green bonds 2020"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # embedded title missing: the heading of the cover page, words split by pypdf rejoined
        (
            "necp-luxembourg-2020-fr.pdf",
            "PLAN NATIONAL INTÉGRÉ EN MATIÈRE D’ÉNERGIE ET DE CLIMAT DU LUXEMBOURG POUR LA PÉRIODE 2021-2030",
        ),
        # embedded title "wp251rev_en" is a file name: page 1's heading instead
        ("wp29-guidelines-automated-decision-making-profiling.pdf", "ARTICLE 29 DATA PROTECTION WORKING PARTY"),
        # a good embedded title stays
        ("necp-finland-2019-en.pdf", "Finland’s Integrated Energy and Climate Plan"),
    ],
)
def test_real_pdfs_without_sidecar(tmp_path: Path, name: str, expected: str) -> None:
    if not (SHARED_PDF / name).exists():
        pytest.skip("shared PDFs not available")
    pdf = shutil.copy(SHARED_PDF / name, tmp_path / name)  # no sidecar next to the copy
    assert load_pdf(Path(pdf), tmp_path, LoaderLimits()).title == expected


def test_citations_show_the_readable_title(tmp_path: Path, embedder) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    titled_pdf(
        lib / "ta.pdf",
        "TA",
        "Innovation Vouchers for Rural Cooperatives",
        "Rural cooperatives in Tamsweg buy laboratory services from universities with innovation vouchers.",
    )
    comps = build_components(Settings(chroma_path=tmp_path / "index", collection="titles"), embedder=embedder)
    assert comps.pipeline.run([lib], progress=False).failed == 0
    answer = comps.assistant.ask("How do rural cooperatives in Tamsweg buy laboratory services?")
    assert answer.citations, answer.text
    assert {c.title for c in answer.citations} == {"Innovation Vouchers for Rural Cooperatives"}
