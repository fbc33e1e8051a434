"""Word-level text handling shared by BM25, sentence selection, refusal and the metrics.

Multilingual stop words (en/de/fr/es/it from bm25s), accent folding and English Snowball stemming
(PyStemmer): enough for a lexical signal beside the multilingual dense model.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import Stemmer
from bm25s import stopwords as sw

STOPWORDS = frozenset(
    w
    for group in (sw.STOPWORDS_EN, sw.STOPWORDS_GERMAN, sw.STOPWORDS_FRENCH, sw.STOPWORDS_SPANISH, sw.STOPWORDS_ITALIAN)
    for w in group
) | frozenset(
    [
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "does",
        "did",
        "do",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "can",
        "could",
        "would",
        "should",
        "may",
        "might",
        "tell",
        "me",
        "please",
        "about",
        "describe",
        "explain",
        "list",
        "give",
        "say",
        "says",
        "said",
        "according",
        "also",
        # pronouns of the asker ("could inspire us", "our region"): not in bm25s' English list
        "we",
        "us",
        "our",
        "ours",
        "i",
        "my",
        "you",
        "your",
    ]
)
_TOKEN = re.compile(r"\w[\w\-]*\w|\w", re.UNICODE)
_stemmer = Stemmer.Stemmer("english")


def fold(text: str) -> str:
    """Lower-case and strip accents (Région → region)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word)


def words(text: str) -> list[str]:
    """Folded word tokens (hyphenated words kept whole and also split)."""
    out: list[str] = []
    for tok in _TOKEN.findall(fold(text)):
        out.append(tok)
        if "-" in tok:
            out.extend(p for p in tok.split("-") if p)
    return out


def terms(text: str) -> list[str]:
    """Stemmed content terms: stop words and 1-letter tokens dropped."""
    return [_stem(w) for w in words(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


def term_set(text: str) -> set[str]:
    """The distinct content terms of a text."""
    return set(terms(text))


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”)\]]*\s+(?=[\"'“(\[]?[A-ZÀ-Ý0-9*])")
_ABBREV = re.compile(r"\b(?:e\.g|i\.e|etc|vs|approx|no|art|fig|cf|Dr|Mr|Ms|St|incl)\.$", re.I)


def sentences(text: str) -> list[str]:
    """Split a passage into sentences and list items (lines starting with '-', '*' or a number are kept apart)."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*•]|\(?\d+[.)])\s)", text):
        block = " ".join(block.split())
        if not block:
            continue
        parts = _SENTENCE_END.split(block)
        merged: list[str] = []
        for part in parts:
            if merged and _ABBREV.search(merged[-1]):
                merged[-1] = f"{merged[-1]} {part}"
            else:
                merged.append(part)
        out.extend(p.strip() for p in merged if p.strip())
    return out


# Words that shape a question but name nothing the answer must contain ("how many", "compare", ...).
QUESTION_WORDS = frozenset(
    terms(
        "many much big long large small main key contain contains set up happen happened describe described corpus "
        "compare comparison difference differ share number amount kind kinds type types way ways role specific "
        "first last new old use used using work works working make made get got give given gave include includes "
        "included cover covered covers consider want run exactly ok okay also other others some any exist exists "
        "there mention mentioned refer according say said purpose aim aims goal goals it its they them their this "
        "that these those through from under involved "
        # how officers ask for practices: "which schemes could inspire us", "examples we can learn from"
        "inspire inspiring inspiration example examples learn lessons recommend suggest idea ideas interested"
    )
)

LANGUAGES = ("en", "de", "fr", "es", "it")
# Below this probability a guess falls back to English, as the stop-word vote it replaces did when unsure:
# short English keyword queries ("innovation vouchers" p=0.76 French, "Natura 2000") are otherwise taken
# for another language. Measured on corpus sentences and 6-9-word windows (labelled per document) and the
# corpus' 143 English topic labels: English 490/491 sentences and 143/143 labels (vote: 491, 143),
# non-English windows 1520/1537 (vote 1342), texts of at most 8 words 246/249 (vote 181).
_CONFIDENT = 0.8


@lru_cache(maxsize=1)
def _identifier() -> Any:
    """py3langid's model (shipped inside its wheel), restricted to LANGUAGES; loaded once, on first use."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    from bot.derived_cache import derived, package_version

    def build() -> Any:
        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        identifier.set_languages(list(LANGUAGES))
        return identifier

    source = Path(MODEL_DIR) / MODEL_FILE  # as LanguageIdentifier.from_model_file finds it
    recipe = f"py3langid-{package_version('py3langid')}-{'-'.join(LANGUAGES)}-norm"
    return derived("langid", source, recipe, build)


def guess_language(text: str) -> str:
    """Best guess among en/de/fr/es/it (py3langid); English when unsure or when there are no letters."""
    if not any(ch.isalpha() for ch in text):
        return "en"
    language, probability = _identifier().classify(text)
    return str(language) if probability >= _CONFIDENT else "en"


_NAME = re.compile(r"[\w][\w\-'’]*", re.UNICODE)


def proper_names(text: str) -> list[str]:
    """Capitalised words not opening a sentence, and acronyms ("Silesia", "EIC"): likely named entities."""
    out: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        for i, tok in enumerate(_NAME.findall(sentence)):
            acronym = sum(ch.isupper() for ch in tok) >= 2
            if (i > 0 and tok[0].isupper()) or acronym:
                out.append(tok.rstrip("'’s") if tok.endswith(("'s", "’s")) else tok)
    return out
