"""Helpdesk-reply drafts over a small real index: the shape of a reply, grounded citations, exports, uploads."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml.ns import qn

from bot.components import Components, build_components
from bot.drafting import Draft, draft_reply
from bot.export import export_docx, export_markdown
from bot.models import OfflineEmbedding
from bot.settings import Settings
from bot.ui.library import document_rows, ingest_uploads, safe_upload_name, save_upload, upload_target
from tests.conftest import ADVERSARIAL, clear_helpdesk_env, copy_subset

SEED_REQUEST = "How can clusters and innovation vouchers support the green and digital transition of SMEs?"
MARKER = re.compile(r"\[(\d+)\]")


@pytest.fixture(scope="module")
def comps(real_embedder: OfflineEmbedding, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Components]:
    """The corpus slice (and the prompt-injection note) in a temp index, shared by the module's tests."""
    with pytest.MonkeyPatch.context() as mp:
        clear_helpdesk_env(mp)
        root = tmp_path_factory.mktemp("drafting")
        library = copy_subset(root / "library")
        shutil.copy(ADVERSARIAL / "injection-note.md", library / "injection-note.md")
        settings = Settings(chroma_path=root / "index", corpus_dir=library, collection="drafting")
        c = build_components(settings, embedder=real_embedder, use_llm=False)
        summary = c.pipeline.run([library], progress=False)
        assert summary.failed == 0, summary.errors
        c.retriever.refresh(force=True)
        yield c


@pytest.fixture(scope="module")
def draft(comps: Components) -> Draft:
    return draft_reply(comps.assistant, SEED_REQUEST)


def _library_text(comps: Components) -> str:
    return _norm(" ".join(c.text for c in comps.retriever.lexical_index.chunks))


def _norm(text: str) -> str:
    """Compare quoted text with the library: no Markdown emphasis, links or entity escapes."""
    text = text.replace("&lt;", "<").replace("&gt;", ">")
    text = re.sub(r"\[([^\]]*)\]\(#?\)", r"\1", text)
    return " ".join(re.sub(r"[*\[\]]", "", text).split())


def _quoted_sentences(practice_text: str) -> list[str]:
    """The sentences of a practice summary without their [n] markers and final punctuation."""
    parts = re.split(r" \[\d+\]", practice_text)
    return [p.lstrip('.!?)”"* ').strip() for p in parts if p.lstrip('.!?)”"* ').strip()]


def test_draft_has_the_shape_of_a_helpdesk_reply(draft: Draft) -> None:
    md = draft.to_markdown()
    assert draft.covered
    assert md.startswith("# Helpdesk reply: ")
    assert "Dear colleague," in md
    assert SEED_REQUEST in md  # the framing restates the request
    assert 2 <= len(draft.sections) <= 4
    headings = re.findall(r"^## (.+)$", md, flags=re.M)
    insights = [h for h in headings if h.startswith("Policy insights")]
    assert insights == [f"Policy insights {i}. {s.theme}" for i, s in enumerate(draft.sections, 1)]
    assert {"Policy Learning Platform support services", "References"} <= set(headings)
    themes = " ".join(s.theme.lower() for s in draft.sections)
    assert "voucher" in themes and "cluster" in themes
    for section in draft.sections:
        assert 1 <= len(section.practices) <= 3
        for practice in section.practices:
            assert MARKER.search(practice.text), practice
            assert practice.place  # region/country (or EU level / several countries)
            assert f"**{practice.title}**" in md


def test_every_marker_resolves_to_a_numbered_reference_with_its_link(draft: Draft, comps: Components) -> None:
    md = draft.to_markdown()
    body, refs = md.split("\n## References\n")
    numbers = [int(n) for n in re.findall(r"^(\d+)\. ", refs, flags=re.M)]
    assert numbers == list(range(1, len(draft.references) + 1))
    cited = {int(n) for n in MARKER.findall(body)}
    assert cited == set(numbers)  # every [n] resolves and every reference is used
    urls = {r.source_url for r in comps.retriever.records.values() if r.source_url.startswith("http")}
    for ref in draft.references:
        if ref.url:
            assert ref.url in urls  # links come from the documents, never made up
            assert f"<{ref.url}>" in refs
    assert any(r.url for r in draft.references)


def test_practice_sentences_are_quoted_from_the_library(draft: Draft, comps: Components) -> None:
    library = _library_text(comps)
    for section in draft.sections:
        for practice in section.practices:
            for sentence in _quoted_sentences(practice.text):
                assert _norm(sentence) in library, sentence


def test_services_are_only_those_the_library_describes(draft: Draft) -> None:
    names = [s.name for s in draft.services]
    assert "Matchmaking sessions" in names and "Peer reviews" in names  # described in the helpdesk reply
    assert "Helpdesk" not in names  # no passage of this library describes the helpdesk service
    md = draft.to_markdown()
    assert "two-hour meetings" in md and "two-day meetings" in md
    for note in draft.services:
        assert MARKER.search(note.text)


def test_instructions_inside_documents_are_never_quoted(comps: Components, draft: Draft) -> None:
    vouchers = draft_reply(comps.assistant, "What should managing authorities consider for innovation vouchers?")
    for md in (draft.to_markdown(), vouchers.to_markdown()):
        assert "PWNED" not in md
        assert "system prompt" not in md.lower()
        assert "5 million" not in md


def test_region_and_topic_steer_the_draft(comps: Components) -> None:
    d = draft_reply(comps.assistant, SEED_REQUEST, region="Italy", topic="innovation vouchers")
    assert d.sections[0].theme == "Innovation vouchers"
    assert "Italy" in d.framing
    first = d.sections[0].practices[0]
    assert "Italy" in first.place, first  # InnoBridge (South Tyrol) comes first


def test_a_request_outside_the_library_gets_a_plain_no(comps: Components) -> None:
    d = draft_reply(comps.assistant, "What is the best recipe for lasagne?")
    md = d.to_markdown()
    assert not d.covered and not d.sections and not d.references
    assert "does not hold documents" in md
    assert not MARKER.search(md)


def test_docx_has_headings_and_clickable_reference_links(draft: Draft, tmp_path: Path) -> None:
    path = export_docx(draft.to_markdown(), tmp_path / "reply.docx")
    doc = Document(str(path))
    headings = [p.text for p in doc.paragraphs if p.style is not None and p.style.name.startswith("Heading")]
    assert headings[0].startswith("Helpdesk reply: ")
    assert [h for h in headings if h.startswith("Policy insights")] == [
        f"Policy insights {i}. {s.theme}" for i, s in enumerate(draft.sections, 1)
    ]
    assert "Policy Learning Platform support services" in headings and "References" in headings
    rels = doc.part.rels
    targets = {r.target_ref for r in rels.values() if r.reltype == RELATIONSHIP_TYPE.HYPERLINK and r.is_external}
    for ref in draft.references:
        if ref.url:
            assert ref.url in targets
    # the links are real w:hyperlink elements pointing at those relationships (clickable in Word)
    linked = {rels[h.get(qn("r:id"))].target_ref for h in doc.element.body.iter(qn("w:hyperlink"))}
    assert {r.url for r in draft.references if r.url} <= linked
    bullets = [p.text for p in doc.paragraphs if p.style is not None and p.style.name == "List Bullet"]
    assert any("two-hour meetings" in b for b in bullets)
    numbered = [p.text for p in doc.paragraphs if re.match(r"^\d+\. ", p.text)]
    assert len(numbered) == len(draft.references)


def test_exports_keep_staff_edits_and_every_reference_url(draft: Draft, tmp_path: Path) -> None:
    edited = draft.to_markdown().replace("Dear colleague,", "Dear Ms Hobbs,")
    edited = edited.replace("We hope this is useful.", "Checked by the helpdesk team. We hope this is useful.")
    md = export_markdown(edited).decode("utf-8")
    assert "Dear Ms Hobbs," in md and "Checked by the helpdesk team." in md
    for ref in draft.references:
        if ref.url:
            assert ref.url in md
    text = "\n".join(p.text for p in Document(str(export_docx(edited, tmp_path / "edited.docx"))).paragraphs)
    assert "Dear Ms Hobbs," in text and "Checked by the helpdesk team." in text
    assert "Dear colleague," not in text


def test_safe_upload_names_stay_inside_the_uploads_folder(tmp_path: Path) -> None:
    uploads = tmp_path / "corpus" / "uploads"
    uploads.mkdir(parents=True)
    assert safe_upload_name("../../etc/passwd.md") == "passwd.md"
    assert safe_upload_name("..\\..\\windows\\system.ini.txt") == "system.ini.txt"
    assert safe_upload_name(".hidden.md") == "hidden.md"
    assert safe_upload_name("Rapport été 2024 <final>.PDF") == "Rapport-ete-2024-final.pdf"
    assert safe_upload_name("../..") == "upload"
    target = upload_target(uploads, "../../etc/passwd.md")
    assert target == uploads.resolve() / "passwd.md"
    source = tmp_path / "incoming.md"
    source.write_text("# Note\n\nText.\n")
    saved = save_upload(source, "../../etc/passwd.md", uploads, max_file_mb=1)
    assert saved.parent == uploads.resolve() and saved.read_text() == "# Note\n\nText.\n"
    assert not (tmp_path / "etc").exists()


def test_uploads_are_ingested_and_broken_files_reported_by_name(
    library: Path, real_embedder: OfflineEmbedding, tmp_path: Path
) -> None:
    settings = Settings(chroma_path=tmp_path / "index", corpus_dir=library)
    c = build_components(settings, embedder=real_embedder, use_llm=False)
    assert c.pipeline.run([library], progress=False).failed == 0
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    note = incoming / "note.md"
    note.write_text(
        "---\ntitle: Orchard innovation vouchers in Styria\ndoc_type: good_practice\ncountry: Austria\n---\n\n"
        "# Orchard innovation vouchers\n\nStyrian apple growers used innovation vouchers to test cold storage "
        "sensors with the local university.\n"
    )
    broken = incoming / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 broken")
    report = ingest_uploads(
        c.pipeline, c.retriever, [(note, "../../orchard note.md"), (broken, "broken.pdf")], library, 1.0
    )
    assert report.errors and report.errors[0].startswith("broken.pdf: ")
    assert "broken.pdf" in report.markdown() and "orchard-note.md" in report.markdown()
    assert (library / "uploads" / "orchard-note.md").exists()
    assert not (library / "uploads" / "broken.pdf").exists()  # a file that failed is not kept
    rows = document_rows(c.retriever.records, "orchard")
    assert [r[0] for r in rows] == ["Orchard innovation vouchers in Styria"]
    answer = c.assistant.ask("How did Styrian apple growers use innovation vouchers?")
    assert not answer.refused and answer.citations[0].title == "Orchard innovation vouchers in Styria"
