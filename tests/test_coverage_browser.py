"""The Library tab shows the coverage map (heat-map and gaps in words); an upload shows up in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from bot.models import OfflineEmbedding
from tests.browser import needs_chromium, served_library
from tests.conftest import copy_subset

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(real_embedder: OfflineEmbedding, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app over a temp index of the corpus slice."""
    root = tmp_path_factory.mktemp("coverage-ui")
    library = copy_subset(root / "library")
    with served_library(real_embedder, root, library, "coverage-ui") as (url, comps):
        yield {"url": url, "comps": comps, "library": library}


@needs_chromium
def test_library_tab_shows_the_coverage_map_and_an_upload_in_it(
    browser: Browser, served: dict[str, Any], tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    page: Page = context.new_page()
    try:
        page.goto(served["url"])
        page.get_by_role("tab", name="Library").click()
        image = page.locator("#coverage-map img")
        image.wait_for()
        page.wait_for_function(
            "() => { const i = document.querySelector('#coverage-map img'); return i && i.naturalWidth > 300; }"
        )
        gaps = page.locator("#coverage-gaps")
        assert "no document on" in gaps.inner_text()
        assert "Malta" not in gaps.inner_text()
        before = image.get_attribute("src")

        note = tmp_path / "malta-vouchers.md"
        note.write_text(
            "---\ntitle: Maltese innovation vouchers\ncountry: Malta\ntopics: [innovation vouchers]\n---\n\n"
            "# Vouchers\n\nMaltese SMEs used innovation vouchers to buy testing services from the university.\n",
            encoding="utf-8",
        )
        page.locator("#upload input[type=file]").set_input_files([str(note)])
        page.locator("#lib-table").get_by_text("Maltese innovation vouchers").wait_for()
        page.wait_for_function("() => /Malta/.test(document.querySelector('#coverage-gaps')?.innerText || '')")
        assert image.get_attribute("src") != before  # the picture was drawn again
    finally:
        context.close()
