"""The staff Evaluate tab: a three-question file runs with a report and a plot; a second run is compared."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from bot.models import OfflineEmbedding
from tests.browser import needs_chromium, served_library
from tests.conftest import DEV_SET, copy_subset

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(real_embedder: OfflineEmbedding, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app over a temp index of the corpus slice."""
    root = tmp_path_factory.mktemp("evaluate-ui")
    library = copy_subset(root / "library")
    with served_library(real_embedder, root, library, "evaluate-ui") as (url, comps):
        yield {"url": url, "root": root, "comps": comps}


@needs_chromium
def test_three_questions_run_report_plot_and_comparison(browser: Browser, served: Any, tmp_path: Path) -> None:
    questions = tmp_path / "three.jsonl"
    questions.write_text("\n".join(DEV_SET.read_text(encoding="utf-8").splitlines()[:3]) + "\n", encoding="utf-8")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(120_000)
    page = context.new_page()
    try:
        page.goto(served["url"])
        page.get_by_role("tab", name="Evaluate").click()
        page.locator("#eval-file input[type=file]").set_input_files([str(questions)])
        page.get_by_label("Uploaded file").check()
        previous = ""
        for _ in (1, 2):
            page.locator("#eval-run").click()
            page.wait_for_function(
                "prev => { const t = document.querySelector('#eval-status')?.innerText || '';"
                " return t.startsWith('Finished') && t !== prev; }",
                arg=previous,
            )
            previous = page.locator("#eval-status").inner_text()
            page.wait_for_function("() => /Overall/.test(document.querySelector('#eval-report')?.innerText || '')")
            page.wait_for_function(
                "() => { const i = document.querySelector('#eval-plot img'); return i && i.naturalWidth > 200; }"
            )
            assert "3 questions" in page.locator("#eval-report").inner_text()
            assert page.locator("#eval-worst details").count() == 3
        page.wait_for_function("() => /B-A/.test(document.querySelector('#eval-compare')?.innerText || '')")
        runs = sorted((served["root"] / "index-eval-runs").iterdir())
        assert len(runs) == 2 and all((r / "run.json").exists() and (r / "report.png").exists() for r in runs)
    finally:
        context.close()
