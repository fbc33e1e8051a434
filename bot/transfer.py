"""Find practices to transfer: for a region's challenge, good practices from *other* regions, with evidence.

How a practice is found: the shared hybrid retriever (bot/retrieval.py) ranks passages for the challenge;
for each passage the extractive answerer's sentence selection (bot/answering/extractive.py) picks the one
or two sentences that best address the challenge; those are the cited evidence. A passage's place is the
document's `region` metadata, else the first place named in the cited sentences, else in the passage, else
the document's country (not "EU"/"multiple"); places come from bot/places.py (countries, adjectives such as
"Flemish", regions, and the regions the library's metadata declares). A passage that names no place (a
multi-region project summary) is kept as "place not stated" with its score × 0.6 (it may well come from the
asking region). Passages scoring below 30% of the best passage's retrieval score, or whose best sentence
scores below 60% of the best located sentence's evidence score, are left out. Sentences saying a practice
was "inspired by", "transferred from", "adapted from"... another place are reported as a transfer already
recorded.

What makes a practice rank higher (score in [0, ~1.2]):
  0.5 × its passage's retrieval score (relative to the best passage)
+ 0.5 × its best sentence's evidence score (relative to the best located sentence)
+ 0.10 when it is a documented good practice (doc_type good_practice) or a transfer is recorded
+ 0.05 when the cited sentence itself names the place (the evidence says where it happened),
all × 0.6 when no place is stated.
Then diversity: practices are picked greedily, each pick's score halved for every practice already picked
from the same place and multiplied by 0.7 for every one from the same document, so several regions come
before many hits from one. Practices from the asking region (same region, or same country when the asker
gives one and the practice names no region) are listed apart, never among the results.
Measured on evals/transfer.jsonl with evals/transfer_eval.py (precision@5).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.answering.extractive import ExtractiveAnswerer
from bot.assistant import Assistant
from bot.config import TransferConfig
from bot.errors import QuestionRejected
from bot.lexical import sentences
from bot.places import Gazetteer, Place
from bot.types import Chunk
from bot.user_input import clean_text

TRANSFER = re.compile(
    r"\b(inspired by|(?:drew|draws|drawn|took|takes) inspiration|transferr?(?:ed|ing)\s+(?:from|to|it)|"
    r"was transferred|adapted (?:from|to)|replicat(?:ed|ing|ion)|learn(?:ed|t|ing) from|modell?ed on|"
    r"based on the .{0,60}(?:from|of) )",
    re.I,
)
UNPLACED = "place not stated"
NOT_A_COUNTRY = ("", "EU", "multiple", "Europe", "international")


@dataclass
class Practice:
    """One practice from a region, with the sentences that show it addresses the challenge."""

    title: str
    document_title: str
    section: str
    region: str
    country: str
    place: str
    project: str
    doc_type: str
    sentences: list[str]
    transfers: list[str]
    transferred_from: list[str]
    source_url: str
    doc_id: str
    chunk_id: str
    page: int | None
    score: float = 0.0


@dataclass
class TransferResult:
    """The ranked practices from other regions, and those from the asking region apart."""

    challenge: str
    region: str
    country: str
    practices: list[Practice] = field(default_factory=list)
    own_region: list[Practice] = field(default_factory=list)

    def regions(self) -> list[str]:
        """The distinct places (stated ones) of the ranked practices, in rank order."""
        return list(dict.fromkeys(p.place for p in self.practices if p.place != UNPLACED))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self) | {"regions": self.regions()}


def _norm(text: str) -> str:
    return " ".join(text.casefold().replace("-", " ").split())


def _project(chunk: Chunk) -> str:
    """The document's project; of several ("ECORIS3; INNOBRIDGE"), the one this passage names."""
    projects = [p.strip() for p in re.split(r"[;,/]", chunk.project) if p.strip()]
    named = [p for p in projects if p.casefold() in chunk.text.casefold()]
    return (named or projects or [""])[0]


class TransferFinder:
    """Ranks practices from other regions for a challenge, over the assistant's retriever and answerer."""

    def __init__(self, assistant: Assistant, config: TransferConfig | None = None) -> None:
        self.assistant = assistant
        self.config = config or TransferConfig()
        offline = assistant.offline
        retriever = assistant.retriever
        self.selector = ExtractiveAnswerer(
            embed=getattr(offline, "embed", None),
            idf=lambda t: retriever.lexical_index.idf(t),
            passage_terms=lambda chunk: retriever.lexical_index.terms_of(chunk),
            config=self.config.selector,
        )

    def _place(self, chunk: Chunk, cited: list[str], gazetteer: Gazetteer) -> tuple[Place | None, bool]:
        """The practice's place and whether the cited sentences name it."""
        if chunk.region.strip():
            region = re.sub(r"\s*\(.*\)\s*$", "", chunk.region).strip()
            named = any(region.casefold() in s.casefold() for s in cited)
            return Place(region, chunk.country if chunk.country not in NOT_A_COUNTRY else ""), named
        for text, named in ((" ".join(cited), True), (f"{chunk.section}\n{chunk.text}", False)):
            found = gazetteer.find(_strip_transfers(text))
            if found:
                return found[0], named
        if chunk.country not in NOT_A_COUNTRY:
            return Place("", chunk.country), False
        return None, False

    def find(self, challenge: str, region: str, country: str = "", k: int | None = None) -> TransferResult:
        """Practices from regions other than `region` (and `country`, when given) that address `challenge`."""
        cfg = self.config
        challenge = clean_text(challenge or "").strip()
        region, country = clean_text(region or "").strip(), clean_text(country or "").strip()
        limit = self.assistant.config.max_question_chars
        if not challenge:
            raise QuestionRejected("Describe the challenge in a few words, e.g. 'SMEs rarely work with universities'.")
        if len(challenge) > limit:
            raise QuestionRejected(f"The challenge is too long ({len(challenge)} characters; at most {limit}).")
        if not region:
            raise QuestionRejected("Say which region is asking, so that its own practices are set apart.")
        retriever = self.assistant.retriever
        retrieval = retriever.retrieve(challenge, k=cfg.candidates)
        gazetteer = Gazetteer.default().with_records(retriever.records.values())
        asking = gazetteer.resolve(region)
        chunks = retrieval.chunks
        if not chunks:
            return TransferResult(challenge, region, country)
        top_retrieval = max(c.score for c in chunks) or 1.0
        found: list[tuple[Practice, bool]] = []
        evidence_scores: list[float] = []
        for chunk in chunks:
            relevance = chunk.score / top_retrieval
            if relevance < cfg.min_relevance:
                continue
            chosen = self.selector.select(challenge, [chunk])
            if not chosen:
                continue
            cited = [" ".join(c.text.split()) for c in chosen]
            place, named = self._place(chunk, cited, gazetteer)
            unplaced = place is None
            place = place or Place(UNPLACED, "")
            transfers = [" ".join(s.split()) for s in sentences(chunk.text) if TRANSFER.search(s)]
            sources = [
                p.label() for s in transfers for p in gazetteer.find(_after_trigger(s)) if p.label() != place.label()
            ]
            practice = Practice(
                title=f"{chunk.title} — {chunk.section.split(' > ')[-1]}" if chunk.section else chunk.title,
                document_title=chunk.title,
                section=chunk.section,
                region=place.region,
                country=place.country,
                place=place.label(),
                project=_project(chunk),
                doc_type=chunk.doc_type,
                sentences=cited,
                transfers=transfers,
                transferred_from=list(dict.fromkeys(sources)),
                source_url=chunk.source_url,
                doc_id=chunk.doc_id,
                chunk_id=chunk.id,
                page=chunk.page,
            )
            bonus = cfg.good_practice_bonus if (chunk.doc_type == "good_practice" or transfers) else 0.0
            bonus += cfg.place_in_evidence_bonus if named else 0.0
            practice.score = (cfg.w_retrieval * relevance + bonus) * (cfg.unplaced_factor if unplaced else 1.0)
            evidence_scores.append(max(c.score for c in chosen))
            found.append((practice, self._is_own(place, region, country, asking)))
        # the reference is the best *located* practice, so that unlocated passages never raise the bar for them
        located = [ev for (p, _), ev in zip(found, evidence_scores, strict=True) if p.place != UNPLACED]
        top_evidence = max(located or evidence_scores, default=1.0) or 1.0
        kept = []
        for (practice, own), ev in zip(found, evidence_scores, strict=True):
            if ev < cfg.min_evidence * top_evidence:
                continue
            factor = cfg.unplaced_factor if practice.place == UNPLACED else 1.0
            practice.score = round(practice.score + factor * cfg.w_evidence * ev / top_evidence, 4)
            kept.append((practice, own))
        others = _dedupe([p for p, own in kept if not own])
        own = _dedupe([p for p, own in kept if own])
        return TransferResult(
            challenge, region, country, practices=self._diverse(others, k or cfg.results), own_region=own[:3]
        )

    @staticmethod
    def _is_own(place: Place, region: str, country: str, asking: Place | None) -> bool:
        if place.region and _norm(place.region) == _norm(region):
            return True
        if asking is not None and asking.region and place.region == asking.region:
            return True
        if asking is not None and not asking.region and not place.region and place.country == asking.country:
            return True  # the asker named a country ("--region Finland"): its country-level practices
        if place.region == UNPLACED:
            return False
        return bool(country) and not place.region and _norm(place.country) == _norm(country)

    def _diverse(self, practices: list[Practice], k: int) -> list[Practice]:
        """Greedy pick: repeats of a place or a document lose score, so several regions come first."""
        cfg = self.config
        pool = list(practices)
        chosen: list[Practice] = []
        while pool and len(chosen) < k:

            def adjusted(p: Practice) -> float:
                same_place = sum(1 for c in chosen if c.place == p.place)
                same_doc = sum(1 for c in chosen if c.doc_id == p.doc_id)
                return p.score * cfg.same_place_decay**same_place * cfg.same_document_decay**same_doc

            best = max(pool, key=adjusted)
            chosen.append(best)
            pool.remove(best)
        return chosen


def _dedupe(practices: list[Practice]) -> list[Practice]:
    """One entry per (document, place): its best-scored passage."""
    best: dict[tuple[str, str], Practice] = {}
    for p in practices:
        key = (p.doc_id, p.place)
        if key not in best or p.score > best[key].score:
            best[key] = p
    return sorted(best.values(), key=lambda p: -p.score)


def _after_trigger(sentence: str) -> str:
    m = TRANSFER.search(sentence)
    return sentence[m.start() :] if m else ""


def _strip_transfers(text: str) -> str:
    """The text without what follows a transfer verb: the place a practice came *from* is not its own."""
    return " ".join(s[: m.start()] if (m := TRANSFER.search(s)) else s for s in sentences(text)) or text


def transfer_markdown(result: TransferResult, escape: Callable[[str], str] = lambda s: s) -> str:
    """The result as Markdown for the CLI and the UI (which passes an HTML `escape` for document text)."""
    region = escape(result.region)
    if not result.practices:
        lines = [f"No practice from a region other than {region} addresses this challenge in the library."]
    else:
        lines = [
            f"**{len(result.practices)} practices from {len(result.regions())} places other than {region}** "
            f"for: _{escape(result.challenge)}_",
            "",
        ]
    for i, p in enumerate(result.practices, start=1):
        lines += _practice_lines(i, p, escape)
    if result.own_region:
        lines += ["", f"**From {region} itself** (shown apart):", ""]
        for i, p in enumerate(result.own_region, start=1):
            lines += _practice_lines(i, p, escape)
    return "\n".join(lines)


def _practice_lines(i: int, p: Practice, escape: Callable[[str], str]) -> list[str]:
    head = f"{i}. **{escape(p.title)}** — {escape(p.place)}" + (f" · project {escape(p.project)}" if p.project else "")
    lines = [head, ""]
    lines += [f"   > {escape(s)} [{i}]\n" for s in p.sentences]
    if p.transfers:
        where = f" (from {escape(', '.join(p.transferred_from))})" if p.transferred_from else ""
        lines.append(f"   - Transfer recorded{where}: {escape(p.transfers[0])}")
    if p.source_url:
        lines.append(f"   - [Open the source ↗]({p.source_url.replace(' ', '%20').replace(')', '%29')})")
    lines.append("")
    return lines
