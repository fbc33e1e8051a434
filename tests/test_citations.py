"""The `[n]` markers (bot/citations.py): where a marker goes in a quoted sentence, and reading them back."""

from __future__ import annotations

import pytest

from bot.citations import MARKER, SPACED_MARKER, as_sentence, cite, cited_numbers


@pytest.mark.parametrize(
    ("sentence", "n", "cited"),
    [
        ("SMEs could obtain vouchers worth up to 60 000€.", 1, "SMEs could obtain vouchers worth up to 60 000€ [1]."),
        ('It is called "Innovation Express."', 2, 'It is called "Innovation Express [2]."'),
        ("Is it open to SMEs?", 3, "Is it open to SMEs [3]?"),
        ("**Clusters matter.**", 4, "**Clusters matter [4].**"),
        ("No closing punctuation", 5, "No closing punctuation [5]"),
    ],
)
def test_the_marker_goes_before_the_closing_punctuation(sentence: str, n: int, cited: str) -> None:
    assert cite(sentence, n) == cited


def test_a_quoted_list_item_becomes_a_sentence() -> None:
    assert as_sentence("  - Vouchers for SMEs ") == "Vouchers for SMEs."
    assert as_sentence("• Clusters (C3)") == "Clusters (C3)"
    assert cite(as_sentence("* Peer reviews"), 12) == "Peer reviews [12]."


def test_markers_are_read_in_order_and_removed_without_a_gap() -> None:
    text = "Vouchers exist [2]. They help SMEs [1][2], see [1000] and [x]."
    assert cited_numbers(text) == [2, 1, 2]
    assert MARKER.sub("", "SMEs [1].") == "SMEs ."
    assert SPACED_MARKER.sub("", text) == "Vouchers exist. They help SMEs, see [1000] and [x]."
