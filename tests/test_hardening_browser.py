"""Issue 11 in the real browser: a lone surrogate does not break the page, the Library view is fresh on each
page load, and an upload of another file type is named in the status (headless Debian chromium, Playwright).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.browser import served_library
from tests.conftest import CORPUS, copy_subset

pytestmark = pytest.mark.browser

EXTRA_DOC = "enterprise-ireland-innovation-vouchers-permitted-uses.md"


@pytest.fixture(scope="module")
def served(real_embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("hardening-ui")
    library = copy_subset(root / "library")
    with served_library(real_embedder, root, library, "hardening-ui") as (url, comps):
        yield {"url": url, "comps": comps, "library": library}


@pytest.fixture
def page(browser: Browser, served: dict[str, Any]) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(25_000)  # bounded: a spinning page fails the test instead of hanging it
    pg = context.new_page()
    pg.goto(served["url"])
    pg.wait_for_selector("#question textarea")
    yield pg
    context.close()


def final_status(page: Page) -> str:
    page.wait_for_function(
        "() => /Answered from|Not covered|Partly|⚠/.test(document.querySelector('#status')?.innerText || '')"
    )
    return page.locator("#status").inner_text()


def test_a_lone_surrogate_then_a_normal_question_on_the_same_page(page: Page) -> None:
    # typed the way a script or an odd keyboard can: the textarea's value holds an unpaired UTF-16 half
    page.evaluate(
        """() => {
            const box = document.querySelector('#question textarea');
            box.value = '\\ud800';
            box.dispatchEvent(new Event('input', {bubbles: true}));
        }"""
    )
    page.locator("#ask").click()
    assert "Please type a question" in final_status(page)
    assert page.locator(".toast-body.error").count() == 0  # Gradio's red "Error" toast

    page.locator("#question textarea").fill("Who is the lead partner of ClusterFY?")
    page.locator("#ask").click()
    page.wait_for_function("() => /Answered from/.test(document.querySelector('#status')?.innerText || '')")
    assert "MITA" in page.locator('#chat [data-testid="bot"]').last.inner_text()


def test_library_counts_and_filters_are_fresh_on_each_page_load(page: Page, served: dict[str, Any]) -> None:
    page.get_by_role("tab", name="Library").click()
    stats = "(document.querySelector('#lib-stats')?.innerText || '')"
    page.wait_for_function(f"() => /^\\d+ documents/.test({stats}.trim())")  # not the loading timer
    n = int(page.locator("#lib-stats").inner_text().split()[0])
    # another upload, re-index or process adds a document while the page is open
    shutil.copy(CORPUS / EXTRA_DOC, served["library"] / EXTRA_DOC)
    assert served["comps"].pipeline.run([served["library"]], progress=False).failed == 0

    page.reload()
    page.get_by_role("tab", name="Library").click()
    page.wait_for_function(f"() => {stats}.trim().startsWith('{n + 1} documents')")
    page.locator("#lib-table").get_by_text("Innovation Vouchers: permitted uses").wait_for()
    page.get_by_role("tab", name="Ask").click()
    page.locator("#f-country input").click()
    page.locator('[role="option"][aria-label="Ireland"]').wait_for()  # the new document's country


def test_an_upload_of_another_type_is_named_in_the_status(page: Page, tmp_path: Path) -> None:
    page.get_by_role("tab", name="Library").click()
    exe = tmp_path / "setup.exe"
    exe.write_bytes(b"MZ\x90\x00 not a document")
    page.locator("#upload input[type=file]").set_input_files([str(exe)])
    status = page.locator("#lib-status")
    # the report, not the "Adding setup.exe to the library…" line shown while the upload is processed
    status.get_by_text("unsupported file type").wait_for()
    assert "setup.exe: unsupported file type" in status.inner_text()
