"""The real app in a real browser: headless Debian chromium driven by Playwright over a small real index.

The app runs in-process on a free 127.0.0.1 port over the corpus slice; every step saves a screenshot in
artifacts/screenshots/ (git-ignored) and the Ask tab's is copied to docs/ask-tab.png for the README.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE
from playwright.sync_api import Browser, Page

from bot.models import OfflineEmbedding
from tests.browser import needs_chromium, served_library
from tests.conftest import ROOT, copy_subset

pytestmark = pytest.mark.browser

SHOTS = ROOT / "artifacts" / "screenshots"
DOCS_SHOT = ROOT / "docs" / "ask-tab.png"
SEED_REQUEST = "How can clusters and innovation vouchers support the green and digital transition of SMEs?"


@pytest.fixture(scope="module")
def served(real_embedder: OfflineEmbedding, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app on a free loopback port over a temp index of the corpus slice; closed after the module."""
    root = tmp_path_factory.mktemp("ui")
    library = copy_subset(root / "library")
    with served_library(real_embedder, root, library, "ui-test") as (url, comps):
        yield {"url": url, "comps": comps, "library": library, "root": root}


@pytest.fixture
def page(browser: Browser, served: dict[str, Any]) -> Iterator[Page]:
    """A fresh browser session on the app (its own chat history)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(60_000)
    pg = context.new_page()
    pg.goto(served["url"])
    pg.wait_for_selector("#question textarea")
    yield pg
    context.close()


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as artifacts/screenshots/<name>.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def ask(page: Page, question: str) -> str:
    """Type a question, press Ask, wait for the final status; returns the last assistant message's text."""
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    page.wait_for_function(
        "() => /Answered from|Not covered|⚠/.test(document.querySelector('#status')?.innerText || '')"
    )
    return page.locator('#chat [data-testid="bot"]').last.inner_text()


def pick(page: Page, dropdown: str, value: str) -> None:
    """Choose a value in a Gradio dropdown the way a person does: open it, click the option."""
    page.locator(f"{dropdown} input").click()
    page.locator(f'[role="option"][aria-label="{value}"]').click()
    page.wait_for_function(f"() => document.querySelector('{dropdown} input').value === '{value}'")


@needs_chromium
def test_ask_shows_a_cited_answer_and_linked_sources(page: Page) -> None:
    text = ask(page, "How did other regions use innovation vouchers to get SMEs working with universities?")
    assert "[1]" in text
    links = page.locator("#sources a.source-link")
    assert links.count() >= 1
    for i in range(links.count()):
        assert links.nth(i).get_attribute("target") == "_blank"
        assert re.match(r"https?://", links.nth(i).get_attribute("href") or "")
    # the [1] in the answer points at the first source in the panel
    assert page.locator('#chat [data-testid="bot"] a[href="#src-1"]').count() >= 1
    assert page.locator("#sources #src-1").count() == 1
    path = shot(page, "01-ask-answer")
    DOCS_SHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, DOCS_SHOT)


@needs_chromium
def test_country_filter_keeps_only_sources_from_that_country(page: Page) -> None:
    pick(page, "#f-country", "multiple")
    text = ask(page, "How did other regions use innovation vouchers to get SMEs working with universities?")
    assert "[1]" in text
    sources = page.locator("#sources .source")
    assert sources.count() >= 1
    for i in range(sources.count()):
        assert sources.nth(i).get_attribute("data-country") == "multiple"
        assert "multiple" in sources.nth(i).locator(".source-meta").inner_text()
    shot(page, "02-country-filter")


@needs_chromium
def test_off_corpus_question_is_refused_and_looks_different(page: Page) -> None:
    text = ask(page, "What is the average salary of a cluster manager in Europe?")
    assert "Not covered by the library" in text
    assert "[1]" not in text
    last = page.locator('#chat [data-testid="bot"]').last
    assert last.locator("blockquote").count() == 1  # set apart from answers, which are plain paragraphs
    assert "Not covered" in page.locator("#status").inner_text()
    assert page.locator("#sources .source").count() == 0
    shot(page, "03-refusal")


@needs_chromium
def test_draft_a_reply_and_download_it_as_docx(page: Page, tmp_path: Path) -> None:
    page.get_by_role("tab", name="Draft a reply").click()
    page.locator("#draft-request textarea").fill(SEED_REQUEST)
    page.locator("#draft-button").click()
    page.wait_for_function("() => /Draft ready/.test(document.querySelector('#draft-status')?.innerText || '')")
    # the preview is rendered by the same event that writes the files, so downloads are ready with it
    page.locator("#draft-preview").get_by_role("heading", name="References").wait_for()
    markdown = page.locator("#draft-md textarea").input_value()
    assert markdown.startswith("# Helpdesk reply: ") and "## Policy insights 1." in markdown
    urls = re.findall(r"^\d+\. .*<(https?://[^>]+)>$", markdown, flags=re.M)
    assert urls
    shot(page, "04-draft")

    # staff edit the draft; the download follows the edit
    page.locator("#draft-md textarea").fill(markdown.replace("Dear colleague,", "Dear Mr Hobbs,"))
    page.locator("#draft-preview").get_by_text("Dear Mr Hobbs,", exact=True).wait_for()
    with page.expect_download() as info:
        page.locator("#download-docx").click()
    download = info.value
    assert download.suggested_filename.endswith(".docx")
    path = tmp_path / download.suggested_filename
    download.save_as(str(path))
    doc = Document(str(path))
    headings = [p.text for p in doc.paragraphs if p.style is not None and p.style.name.startswith("Heading")]
    assert any(h.startswith("Policy insights 1.") for h in headings)
    assert "Policy Learning Platform support services" in headings and "References" in headings
    assert "Dear Mr Hobbs," in [p.text for p in doc.paragraphs]
    targets = {r.target_ref for r in doc.part.rels.values() if r.reltype == RELATIONSHIP_TYPE.HYPERLINK}
    assert set(urls) <= targets

    with page.expect_download() as info:
        page.locator("#download-md").click()
    md_path = tmp_path / "reply.md"
    info.value.save_as(str(md_path))
    exported = md_path.read_text(encoding="utf-8")
    assert "Dear Mr Hobbs," in exported and all(u in exported for u in urls)


@needs_chromium
def test_draft_api_endpoint(served: dict[str, Any]) -> None:
    from gradio_client import Client

    client = Client(served["url"], verbose=False)
    md = client.predict(SEED_REQUEST, api_name="/draft")
    assert md.startswith("# Helpdesk reply: ") and "## References" in md
    text, citations = client.predict("What are innovation vouchers?", api_name="/ask")
    assert "[1]" in text and citations.startswith("[")


@needs_chromium
def test_broken_pdf_upload_is_reported_and_the_app_keeps_answering(
    page: Page, served: dict[str, Any], tmp_path: Path
) -> None:
    page.get_by_role("tab", name="Library").click()
    page.locator("#lib-table").get_by_text("ClusterFY project description").wait_for()
    broken = tmp_path / "broken-report.pdf"
    broken.write_bytes(b"%PDF-1.4 broken")
    note = tmp_path / "orchard-vouchers.md"
    note.write_text(
        "---\ntitle: Orchard innovation vouchers in Styria <b>pilot</b>\ndoc_type: good_practice\n"
        "country: Austria\n---\n\n"
        "# Orchard innovation vouchers\n\nStyrian apple growers used innovation vouchers to test cold storage "
        "sensors with the local university.\n",
        encoding="utf-8",
    )
    page.locator("#upload input[type=file]").set_input_files([str(broken), str(note)])
    status = page.locator("#lib-status")
    status.get_by_text("Could not be added").wait_for()
    assert "broken-report.pdf: broken PDF" in status.inner_text()
    assert "orchard-vouchers.md" in status.inner_text()
    page.locator("#lib-table").get_by_text("Orchard innovation vouchers in Styria").wait_for()
    assert "Styria <b>pilot</b>" in page.locator("#lib-table").inner_text()  # shown as text, not as HTML
    uploads = served["library"] / "uploads"
    assert (uploads / "orchard-vouchers.md").exists() and not (uploads / "broken-report.pdf").exists()
    shot(page, "05-upload-error")

    page.get_by_role("tab", name="Ask").click()
    text = ask(page, "How did Styrian apple growers use innovation vouchers?")
    assert "[1]" in text and "apple growers" in text
    assert "Orchard innovation vouchers in Styria <b>pilot</b>" in page.locator("#sources").inner_text()
    shot(page, "06-answer-after-upload")


@needs_chromium
def test_html_and_scripts_in_questions_and_documents_never_run(page: Page, served: dict[str, Any]) -> None:
    library: Path = served["library"]
    (library / "xss-note.md").write_text(
        "---\ntitle: Reindeer herding cluster <img src=x onerror=\"window.__xss='title'\">\ncountry: Finland\n"
        "source_url: https://example.org/reindeer\n---\n# Reindeer herding cluster\n\n"
        "The Lapland reindeer herding cluster <img src=x onerror=\"window.__xss='doc'\"> supports herders "
        "with shared slaughterhouses. <script>window.__xss='script'</script> It was founded in Rovaniemi.\n"
    )
    comps = served["comps"]
    comps.pipeline.run([library], progress=False)
    comps.retriever.refresh(force=True)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    text = ask(page, "What does the Lapland reindeer herding cluster <img src=y onerror=alert(1)> offer herders?")
    shot(page, "07-html-escaped")
    assert page.evaluate("() => window.__xss") is None and dialogs == []
    assert "slaughterhouses" in text
    sources = page.locator("#sources").inner_text()
    assert "<img src=x onerror=" in sources, "document HTML is shown as text in the sources panel"
    assert page.locator("#sources img").count() == 0 and page.locator("#chat img[src='y']").count() == 0
    user_bubble = page.locator('#chat [data-testid="user"]').last.inner_text()
    assert "<img src=y onerror=alert(1)>" in user_bubble, "the question is echoed as text"
    (library / "xss-note.md").unlink()
    comps.pipeline.run([library], progress=False)
    comps.retriever.refresh(force=True)
