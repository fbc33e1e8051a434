"""The staff tab `Find practices to transfer` in a real browser over the corpus slice."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser

from bot.models import OfflineEmbedding
from tests.browser import needs_chromium, served_library
from tests.conftest import copy_subset

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(real_embedder: OfflineEmbedding, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over a temp index of the corpus slice."""
    root = tmp_path_factory.mktemp("transfer-ui")
    library = copy_subset(root / "library")
    with served_library(real_embedder, root, library, "transfer-ui") as (url, _comps):
        yield url


@needs_chromium
def test_find_practices_tab_lists_cited_practices_from_other_regions(browser: Browser, served: Any) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        page.goto(served)
        page.get_by_role("tab", name="Find practices to transfer").click()
        page.locator("#transfer-challenge textarea").fill(
            "Our SMEs rarely work with universities: how could innovation vouchers connect them?"
        )
        page.locator("#transfer-region textarea").fill("Basque Country")
        page.locator("#transfer-button").click()
        page.wait_for_function(
            "() => /practice\\(s\\) from/.test(document.querySelector('#transfer-status')?.innerText || '')"
        )
        results = page.locator("#transfer-results")
        text = results.inner_text()
        assert "Lithuania" in text and "[1]" in text
        assert "From Basque Country itself" in text  # the asking region's own practice, shown apart
        assert results.locator("blockquote").count() >= 2  # the cited sentences
        assert results.get_by_text("Open the source ↗").count() >= 1
    finally:
        context.close()
