"""What kind of answer a question expects, and whether a sentence contains one.

how many / how much / what budget → an amount or count; when / what year / deadline → a date; who / which
organisation → a named organisation or person; where / which regions, countries, cities → place names.
Other questions ("what is", "how did", yes/no) expect no particular type. English only: a question in
another language expects no type (its words are not matched here).

Written by hand: answer-type classification in QA systems (Li & Roth 2002) is a trained model in the
literature; no offline package ships one for English questions, and these few patterns cover what a
helpdesk asks. Named-entity spotting is by capitalisation and a gazetteer of the library's own places.
"""

from __future__ import annotations

import re

NUMBER, DATE, WHO, PLACE = "number", "date", "who", "place"

_QUESTION_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        DATE,
        re.compile(
            r"\b(when|what year|which year|what date|which date|since when|deadline|how long ago|in which year)\b", re.I
        ),
    ),
    (
        NUMBER,
        re.compile(
            r"\b(how (many|much|large|big|long|high|often)|what (is the |was the )?(budget|amount|number|share|"
            r"percentage|rate|size|total|value|cost|funding|level)|by how much|what budget|what share)\b",
            re.I,
        ),
    ),
    (
        PLACE,
        re.compile(
            r"\b(where|in which (region|country|city|place)s?|which (regions?|countries|country|cities|city|places?|"
            r"member states?|municipalit(y|ies)))\b",
            re.I,
        ),
    ),
    (
        WHO,
        re.compile(
            r"\b(who|whom|whose|which (organi[sz]ations?|agenc(y|ies)|partners?|institutions?|bod(y|ies)|"
            r"ministr(y|ies)|compan(y|ies)|universit(y|ies)|person|people)|lead partner)\b",
            re.I,
        ),
    ),
)

_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|hundred|"
    r"thousand|million|billion|dozen|half|double|twice"
)
_NUMBER = re.compile(rf"\d|\b({_NUMBER_WORDS})\b|%|€|\$|£|\bEUR\b|\bpercent\b", re.I)
_MONTHS = (
    r"January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_DATE = re.compile(rf"\b(1[89]\d\d|20\d\d)\b|\b({_MONTHS})\b|\b(spring|summer|autumn|winter)\b", re.I)
_ORG_WORDS = re.compile(
    r"\b(Agency|Ministry|University|Region|Council|Institute|Foundation|Association|Department|Chamber|Centre|"
    r"Center|Commission|Municipality|City|Government|Office|Network|Cluster|Partnership|Authority|Fund|Bank)\b"
)
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w\-]+|\b[A-Z]{2,}\b")


def expected_type(question: str) -> str | None:
    """The answer type an English question asks for (None: no particular type)."""
    for kind, pattern in _QUESTION_TYPES:
        if pattern.search(question):
            return kind
    return None


def has_type(sentence: str, kind: str | None, places: frozenset[str] = frozenset()) -> bool:
    """Whether the sentence contains an answer of that type (always True for no type)."""
    if kind is None:
        return True
    if kind == NUMBER:  # a year alone is not an amount
        return bool(_NUMBER.search(re.sub(r"\b(1[89]|20)\d\d\b", " ", sentence)))
    if kind == DATE:
        return bool(_DATE.search(sentence))
    names = _CAPITALISED.findall(sentence.strip())
    if kind == WHO:
        return bool(_ORG_WORDS.search(sentence)) or len(names) >= 1
    low = sentence.lower()
    return any(p in low for p in places) or len(names) >= 1
