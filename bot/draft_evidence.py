"""What a helpdesk request asks for (its weighted key terms) and the library passages that answer it."""

from __future__ import annotations

from bot.config import DraftConfig
from bot.lexical import QUESTION_WORDS, proper_names, term_set, terms
from bot.refusal import UNKNOWN_TERM_IDF
from bot.retrieval import HybridRetriever
from bot.types import Chunk, Filters

# Words of a request letter that name nothing to look for ("we would like to know ...").
LETTER_WORDS = frozenset(
    terms(
        "we us our would like know need needs want wants looking look interested interest information help "
        "please dear regards thank thanks kind best hello hi question questions request wondering grateful"
    )
)


def request_weights(retriever: HybridRetriever, text: str) -> dict[str, float]:
    """idf of the request's key terms; the words of a letter and the names of its sender weigh little."""
    lex = retriever.lexical_index
    names = {t for n in proper_names(text) for t in terms(n)}
    return {
        t: lex.idf(t) * (0.25 if t in names else 1.0)
        for t in dict.fromkeys(terms(text))
        if t not in QUESTION_WORDS and t not in LETTER_WORDS and t in lex.df
    }


def known_share(query: str, weights: dict[str, float]) -> float:
    """Share of the request's weight on terms the library knows; names (people, bodies) do not count."""
    names = {t for n in proper_names(query) for t in terms(n)}
    unknown = {
        t
        for t in terms(query)
        if t not in weights and t not in QUESTION_WORDS and t not in LETTER_WORDS and t not in names and len(t) > 2
    }
    known = sum(weights.values())
    return known / (known + UNKNOWN_TERM_IDF * len(unknown)) if known else 0.0


def coverage(chunk: Chunk, weights: dict[str, float]) -> float:
    """Share (idf-weighted) of the request's key terms that a passage contains."""
    present = term_set(chunk.embed_text())
    return sum(w for t, w in weights.items() if t in present) / (sum(weights.values()) or 1.0)


def passage_pool(
    retriever: HybridRetriever, config: DraftConfig, query: str, k: int, weights: dict[str, float]
) -> list[Chunk]:
    """Retrieved passages that share enough of the request's key terms."""
    chunks = retriever.retrieve(query, k=k).chunks
    if not chunks:
        return []
    floor = config.relative_floor * chunks[0].score
    return [c for c in chunks if c.score >= floor and coverage(c, weights) >= config.min_passage_coverage]


def regional_passages(retriever: HybridRetriever, query: str, region: str) -> list[Chunk]:
    """The passages best matching the request among documents from the requester's region or country."""
    wanted = region.casefold()
    places: set[tuple[str, str]] = set()
    for rec in retriever.records.values():
        if rec.country and rec.country.casefold() == wanted:
            places.add(("country", rec.country))
        if rec.region and wanted in rec.region.casefold():
            places.add(("region", rec.region))
    out: dict[str, Chunk] = {}
    for field_name, value in sorted(places):
        for c in retriever.retrieve(query, k=6, filters=Filters(**{field_name: value})).chunks:
            out.setdefault(c.id, c)
    return list(out.values())
