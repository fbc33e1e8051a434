"""Language of a question or passage (bot.lexical.guess_language, py3langid): short EN/FR/DE/ES/IT text."""

from __future__ import annotations

import json

import pytest

from bot.lexical import guess_language
from tests.conftest import DEV_SET


@pytest.mark.parametrize(
    ("text", "language"),
    [
        # corpus passages the former stop-word vote called English (few stop words)
        ("Abbau kontraproduktiver Anreize und Subventionen Energieeffizienz Dekarbonisierung", "de"),
        ("Nouveaux bâtiments résidentiels et non résidentiels sans énergie fossile", "fr"),
        ("Interreg Europe, programme de coopération interrégionale couvrant toute l'Europe,", "fr"),
        ("BRUSELAS - Ayer, la Comisión Europea (CE) presentó un", "es"),
        ("Quando l'obiettivo è consolidare l'economia regionale, capita spesso che", "it"),
        ('"smart specialisation strategies", ossia strategie di sviluppo intelligente fondate', "it"),
        # questions
        ("Welche drei Hauptziele verfolgen Innovationsgutscheine?", "de"),
        ("Quels sont les objectifs du programme?", "fr"),
        ("¿Qué socios italianos participan en ClusterPoliSEE?", "es"),
        ("Quali sono gli obiettivi del progetto?", "it"),
        ("How large could SME innovation vouchers be?", "en"),
        # English keyword queries stay English (a library alone calls some of them French or Italian)
        ("innovation vouchers", "en"),
        ("Natura 2000", "en"),
        ("SME internationalisation", "en"),
        ("Mediterranean", "en"),
        ("", "en"),
        ("2021-2027 ?", "en"),
    ],
)
def test_language_of_short_text(text: str, language: str) -> None:
    assert guess_language(text) == language


def test_dev_questions_keep_their_language() -> None:
    questions = [json.loads(line)["question"] for line in DEV_SET.read_text().splitlines() if line.strip()]
    others = {q.split()[0]: guess_language(q) for q in questions if guess_language(q) != "en"}
    assert others == {"Welche": "de", "Selon": "fr", "¿Qué": "es"}, "58 English questions, three in other languages"
