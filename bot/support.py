"""Sentence support: every sentence of an answer is checked against the passages it may cite.

Small models forget citations or put them on the wrong passage; large ones sometimes add a fact the
passages do not hold. So the reply is split into sentences, and each is scored against every passage
given to the model: the best cosine between the sentence and one of the passage's sentences (through the
multilingual embedder) blended with the idf-free share of the sentence's content terms that the passage
(with its title and heading) contains. A sentence keeps a marker only for a passage that supports it; an
uncited or wrongly cited sentence is attached to the passage that supports it best; a sentence no passage
supports stays, without a marker, flagged as unsupported. Numbers and names that appear in no passage are
flagged too. Written by hand: no maintained library does claim-level citation repair, and no NLI model
ships offline (see the notes on offline models).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.citations import SPACED_MARKER
from bot.lexical import QUESTION_WORDS, fold, proper_names, sentences, term_set
from bot.types import Chunk

MARKER = SPACED_MARKER  # (bot.citations) removing a marker leaves no gap
NUMBER = re.compile(r"\d[\d.,]*\d|\d")
UNSUPPORTED = "[?]"  # shown after a sentence no passage supports
MIN_SUPPORT = 0.5  # below this a passage does not support a sentence (see evals/README.md, "Sentence support")
W_DENSE = 0.6


@dataclass
class SentenceSupport:
    """One sentence of an answer and how well its cited passage supports it."""

    text: str  # the sentence as shown, with its final marker
    passage: int | None  # 0-based passage index it cites (None: unsupported, or a lead-in)
    support: float | None  # 0..1 against that passage (None for lead-ins such as "It uses:")
    flags: list[str] = field(default_factory=list)

    @property
    def supported(self) -> bool:
        """True when a passage supports the sentence, or it states nothing (a lead-in)."""
        return self.support is None or self.support >= MIN_SUPPORT


@dataclass
class SupportCheck:
    """The repaired answer text and the per-sentence verdicts (passage indices are 0-based)."""

    text: str
    sentences: list[SentenceSupport]

    @property
    def supported_share(self) -> float:
        """Share of claim sentences (lead-ins excluded) that a passage supports."""
        claims = [s for s in self.sentences if s.support is not None]
        return sum(s.supported for s in claims) / len(claims) if claims else 0.0


def _with_marker(sentence: str, marker: str) -> str:
    """`marker` before the sentence's final punctuation."""
    end = sentence[-1] if sentence and sentence[-1] in ".!?;:" else ""
    return f"{sentence[: len(sentence) - len(end)].rstrip()} {marker}{end}"


def _keep_markers(claim: str, keep: set[int]) -> str:
    """The sentence with only the markers of passages (0-based) in `keep`, where the model put them."""
    return MARKER.sub(lambda m: m.group(0) if int(m.group(1)) - 1 in keep else "", claim).strip()


def _passage_terms(chunk: Chunk) -> set[str]:
    return term_set(f"{chunk.title} {chunk.section} {chunk.text}")


def _pieces(text: str) -> list[str]:
    """Lines, then sentences; a piece that is only markers joins the previous one."""
    out: list[str] = []
    for line in text.splitlines():
        for sent in sentences(line) if line.strip() else []:
            if out and not MARKER.sub("", sent).strip(" .;:"):
                out[-1] = f"{out[-1]} {sent.strip()}"
            else:
                out.append(sent.strip())
        out.append("\n")
    return out[:-1] if out else out


def check_support(
    text: str, passages: Sequence[Chunk], embed: Callable[[list[str]], np.ndarray] | None
) -> SupportCheck:
    """Score, repair and flag each sentence of `text` against `passages` (markers are 1-based)."""
    pieces = _pieces(text)
    claims = [p for p in pieces if p != "\n"]
    bare = [MARKER.sub("", p).strip() for p in claims]
    p_sents = [[s for s in sentences(c.text) if len(s.split()) >= 3] or [c.text] for c in passages]
    dense = np.zeros((len(claims), len(passages)))
    if embed is not None and claims and passages:
        flat = [s for group in p_sents for s in group]
        vecs = embed(bare + flat)
        q, pv = vecs[: len(bare)], vecs[len(bare) :]
        start = 0
        for j, group in enumerate(p_sents):
            block = pv[start : start + len(group)]
            dense[:, j] = np.clip((q @ block.T).max(axis=1), 0.0, 1.0) if len(group) else 0.0
            start += len(group)
    p_terms = [_passage_terms(c) for c in passages]
    p_texts = [fold(f"{c.title} {c.section} {c.text}") for c in passages]
    all_text = fold(" ".join(f"{c.title} {c.section} {c.text}" for c in passages))
    verdicts: list[SentenceSupport] = []
    rebuilt: list[str] = []
    i = 0
    for piece in pieces:
        if piece == "\n":
            rebuilt.append("\n")
            continue
        sentence, claim = bare[i], claims[i]
        row = dense[i]
        i += 1
        words = sentence.split()
        if len(words) < 4 or sentence.rstrip().endswith(":"):  # a lead-in or a fragment states nothing
            verdicts.append(SentenceSupport(text=sentence, passage=None, support=None))
            rebuilt.append(sentence)
            continue
        s_terms = {t for t in term_set(sentence) if t not in QUESTION_WORDS}
        names = [fold(n) for n in proper_names(sentence)]
        scores = []
        for j in range(len(passages)):
            share = len(s_terms & p_terms[j]) / len(s_terms) if s_terms else 0.0
            # a sentence is about its names: "ClusterFY's lead partner is SPRI" is not supported by a passage
            # naming SPRI as another project's lead partner
            named = sum(n in p_texts[j] for n in names) / len(names) if names else 1.0
            scores.append((W_DENSE * float(row[j]) + (1 - W_DENSE) * share) * named)
        flags = [f"number not in the passages: {n}" for n in NUMBER.findall(sentence) if n not in all_text]
        flags += [f"name not in the passages: {n}" for n in proper_names(sentence) if fold(n) not in all_text]
        cited = [int(n) - 1 for n in MARKER.findall(claim) if 1 <= int(n) <= len(passages)]
        good = [j for j in dict.fromkeys(cited) if scores[j] >= MIN_SUPPORT]
        best = int(np.argmax(scores)) if scores else -1
        if good:  # keep the model's own markers where they hold, in place; drop the others
            chosen = good
            shown = _keep_markers(claim, set(good))
        else:
            chosen = [best] if best >= 0 and scores[best] >= MIN_SUPPORT else []
            if not chosen:
                flags.insert(0, "no passage supports this sentence")
            shown = _with_marker(sentence, "".join(f"[{j + 1}]" for j in chosen) or UNSUPPORTED)
        score = max((scores[j] for j in chosen), default=max(scores, default=0.0))
        verdicts.append(SentenceSupport(text=shown, passage=chosen[0] if chosen else None, support=score, flags=flags))
        rebuilt.append(shown)
    joined = " ".join(rebuilt).replace(" \n ", "\n").replace(" \n", "\n").replace("\n ", "\n")
    return SupportCheck(text=joined.strip(), sentences=verdicts)
