"""Helpdesk-reply drafts built offline from the library: themes of good practices, services, references.

A draft has the shape of a real helpdesk reply (see the seed reply on clusters): a greeting, a framing
paragraph, 2–4 "Policy insights" sections grouped by theme, a section on the Policy Learning Platform's
support services and a numbered reference list. Every sentence about a practice is quoted from a library
passage and cited [n] into the reference list; nothing is invented. Themes are the library's own topic
labels that the request names, chosen greedily so that each covers different passages (falling back to
document types); sentences are picked with the offline extractive answerer's query-focused scoring.
Text from documents is data: sentences that address an assistant are never quoted.
Written by hand: no maintained library drafts cited, themed replies from retrieved passages.

This module is the entry: `ReplyDrafter` runs the steps, each in its own module —
`draft_evidence` (the request's key terms and the passages that answer it), `draft_themes` (which topics
become sections), `draft_quotes` (quoted, cited sentences and the reference list), `draft_text` (the
letter's fixed prose) and `draft_records` (the records and their Markdown).
"""

from __future__ import annotations

from typing import Any

from bot.answering.extractive import ExtractiveAnswerer
from bot.assistant import clean_question
from bot.config import DraftConfig
from bot.draft_evidence import coverage, known_share, passage_pool, regional_passages, request_weights
from bot.draft_quotes import References, quote_practices, quote_services
from bot.draft_records import Draft, InsightSection, Practice, Reference, ServiceNote
from bot.draft_text import (
    GENERIC_SERVICES,
    GREETING,
    NOT_COVERED,
    SERVICES_INTRO,
    closing,
    framing,
    quoted_request,
    region_note,
    section_intro,
    subject_of,
    thanks,
    theme_title,
)
from bot.draft_themes import choose_themes
from bot.retrieval import HybridRetriever

__all__ = [
    "Draft",
    "DraftConfig",
    "InsightSection",
    "Practice",
    "Reference",
    "ReplyDrafter",
    "ServiceNote",
    "draft_reply",
]


class ReplyDrafter:
    """Retrieve for a request, group the evidence into themes, quote and cite it."""

    def __init__(
        self,
        retriever: HybridRetriever,
        answerer: ExtractiveAnswerer | None = None,
        config: DraftConfig | None = None,
    ) -> None:
        self.retriever = retriever
        self.config = config or DraftConfig()
        base = answerer or ExtractiveAnswerer(idf=lambda t: retriever.lexical_index.idf(t))
        # same scoring as the chat answer, but over one document's passages and keeping more candidates
        self.selector = ExtractiveAnswerer(
            embed=base.embed,
            idf=base.idf,
            config=self.config.selector,
        )

    def draft(self, request_text: str, region: str | None = None, topic: str | None = None) -> Draft:
        """A themed, cited reply to a helpdesk request; says so plainly when the library does not cover it."""
        request = clean_question(request_text, 20_000)
        region = (region or "").strip() or None
        topic = (topic or "").strip() or None
        self.retriever.refresh()
        query = f"{topic}. {request}" if topic else request
        weights = request_weights(self.retriever, query)
        pool = passage_pool(self.retriever, self.config, query, self.config.pool_k, weights)
        if pool and known_share(query, weights) * max(coverage(c, weights) for c in pool) < (
            self.config.min_request_coverage
        ):
            pool = []  # the request is about words the library never uses ("salary", "lasagne")
        refs = References()
        quoted = quoted_request(request)
        if not pool:
            return Draft(
                request=request,
                subject=topic or "your request",
                greeting=GREETING,
                framing=thanks(quoted) + NOT_COVERED,
                services_intro=GENERIC_SERVICES,
                closing=closing(),
                covered=False,
            )
        local: set[str] = set()
        if region:
            seen = {c.id for c in pool}
            for c in regional_passages(self.retriever, query, region):
                local.add(c.id)
                if c.id not in seen:
                    pool.append(c)
        themes = choose_themes(self.retriever, self.config, query, pool, weights, topic, local)
        used: set[str] = set()
        sections = []
        for theme in themes:
            practices = quote_practices(self.selector, self.config, theme, query, refs, used, region, local)
            if practices:
                sections.append(
                    InsightSection(theme_title(theme.label), section_intro(theme.label, practices), practices)
                )
        services = quote_services(self.retriever, weights, refs, used)
        subject = topic or subject_of([s.theme for s in sections]) or "your request"
        docs = {p.title for s in sections for p in s.practices}
        text = framing(quoted, len(docs), len(sections))
        if region:
            has_local = any(region.casefold() in p.place.casefold() for s in sections for p in s.practices)
            text += region_note(region, has_local)
        return Draft(
            request=request,
            subject=subject,
            greeting=GREETING,
            framing=text,
            sections=sections,
            services_intro=SERVICES_INTRO if services else GENERIC_SERVICES,
            services=services,
            closing=closing(),
            references=refs.items,
            covered=bool(sections),
        )


def draft_reply(
    assistant_or_retriever: Any, request_text: str, region: str | None = None, topic: str | None = None
) -> Draft:
    """Draft a helpdesk reply from `Components` (its drafter, sized by the settings), an `Assistant` (its
    offline answerer, default sizes) or a `HybridRetriever`."""
    drafter = getattr(assistant_or_retriever, "drafter", None)
    if isinstance(drafter, ReplyDrafter):
        return drafter.draft(request_text, region=region, topic=topic)
    retriever = getattr(assistant_or_retriever, "retriever", assistant_or_retriever)
    answerer = getattr(assistant_or_retriever, "offline", None)
    if not isinstance(answerer, ExtractiveAnswerer):
        answerer = None
    return ReplyDrafter(retriever, answerer).draft(request_text, region=region, topic=topic)
