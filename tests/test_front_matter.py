"""Markdown front matter (python-frontmatter behind ingest/loaders/markdown.py): the block, the body, the warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders.markdown import split_front_matter

P = Path("note.md")


@pytest.mark.parametrize(
    ("text", "meta", "body"),
    [
        (
            "---\ntitle: Vouchers\ncountry: Italy\n---\n# Vouchers\n\nText.\n",
            {"title": "Vouchers", "country": "Italy"},
            "# Vouchers\n\nText.\n",
        ),
        ("---\ntitle: Dots\n...\nBody\n", {"title": "Dots"}, "Body\n"),  # YAML's end-of-document line closes too
        (
            "---  \ntitle: T\n---\t\nBody\n\n---\n\nMore\n",
            {"title": "T"},
            "Body\n\n---\n\nMore\n",
        ),  # a later rule is body
        ("---\r\ntitle: T\r\n---\r\nBody\r\n", {"title": "T"}, "Body\r\n"),
        ("---\n---\nBody\n", {}, "Body\n"),
        ("# No front matter\n\n---\n", {}, "# No front matter\n\n---\n"),
    ],
)
def test_front_matter_and_body(text: str, meta: dict, body: str) -> None:
    warnings: list[str] = []
    assert split_front_matter(P, text, warnings) == (meta, body)
    assert warnings == []


@pytest.mark.parametrize(
    ("text", "body", "warning"),
    [
        (
            "---\ntitle: x\n\nBody\n",
            "---\ntitle: x\n\nBody\n",
            "note.md: front matter is not closed by '---'; treated as plain Markdown",
        ),
        (
            "---\ntitle: [unclosed\ncountry: Italy\n---\nBody\n",
            "Body\n",
            "note.md: front matter is not valid YAML (line 3); metadata ignored",
        ),
        ("---\n- a\n- b\n---\nBody\n", "Body\n", "note.md: front matter is not a mapping of fields; metadata ignored"),
    ],
)
def test_ignored_front_matter_says_why(text: str, body: str, warning: str) -> None:
    warnings: list[str] = []
    assert split_front_matter(P, text, warnings) == ({}, body)
    assert warnings == [warning]
