"""Theme choice for a draft: the library topics a request names, each bringing passages the others lack."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.config import DraftConfig
from bot.draft_evidence import coverage, passage_pool
from bot.draft_text import doc_type_group
from bot.lexical import term_set, terms, words
from bot.retrieval import HybridRetriever
from bot.types import Chunk

log = logging.getLogger(__name__)


@dataclass
class Theme:
    """A candidate section: its label, the label's terms and the passages that fit it."""

    label: str
    terms: set[str]
    chunks: list[Chunk]
    prior: float = 1.0


def choose_themes(
    retriever: HybridRetriever,
    config: DraftConfig,
    query: str,
    pool: list[Chunk],
    weights: dict[str, float],
    topic: str | None,
    local: set[str],
) -> list[Theme]:
    """Library topics the request names, chosen greedily so that each brings documents not yet covered."""
    cfg = config
    labels: dict[str, str] = {}
    for rec in retriever.records.values():
        for t in rec.topics:
            labels.setdefault(t.casefold(), t)
    if topic:
        labels[topic.casefold()] = topic
    lex = retriever.lexical_index
    order = list(weights)
    candidates: list[Theme] = []
    for key, label in labels.items():
        t_terms = set(terms(label))
        if not t_terms:
            continue
        t_weight = {t: lex.idf(t) if t in lex.df else 9.0 for t in t_terms}
        match = sum(w for t, w in t_weight.items() if t in weights) / (sum(t_weight.values()) or 1.0)
        if topic and key == topic.casefold():
            match = 2.0  # asked for explicitly
        if match < cfg.min_topic_match or not (match > 1 or phrase_in(label, query)):
            continue
        # the request's subject comes first ("how can clusters ... support SMEs?"): earlier terms weigh more
        first = min((order.index(t) for t in t_terms if t in order), default=len(order))
        # specific labels (rare terms, several words) make better sections than "innovation"
        specificity = sum(t_weight.values()) / len(t_weight) * (1 + 0.25 * (len(t_terms) - 1))
        prior = match * specificity / (1 + 0.1 * first)
        # passages from the requester's region count when tagged with the topic, in whatever language
        found = {c.id: c for c in pool if fits(c, label, t_terms) or (c.id in local and tagged(c, label))}
        for c in passage_pool(retriever, cfg, f"{label}. {query}", cfg.theme_k, weights):
            if c.id not in found and fits(c, label, t_terms):
                found[c.id] = c
        chunks = sorted(found.values(), key=lambda c: -c.score)
        if chunks:
            candidates.append(Theme(label, t_terms, chunks, prior))
    # a label contained in a longer matching one ("vouchers" in "innovation vouchers") is left out
    candidates = [c for c in candidates if not any(c.terms < o.terms for o in candidates)]
    chosen: list[Theme] = []
    covered: set[str] = set()
    while len(chosen) < cfg.max_sections:
        best, best_value = None, 0.0
        for cand in candidates:
            if any(cand.terms <= c.terms or c.terms <= cand.terms for c in chosen):
                continue
            docs: dict[str, float] = {}
            for c in cand.chunks:
                docs[c.doc_id] = max(docs.get(c.doc_id, 0.0), coverage(c, weights))
            # documents already shown count half: they may add other sentences on this theme
            fresh = sorted((s * (0.5 if d in covered else 1.0) for d, s in docs.items()), reverse=True)
            value = cand.prior * sum(fresh[: cfg.max_practices])
            if value > best_value:
                best, best_value = cand, value
        if best is None:
            break
        log.debug("theme %r value %.3f", best.label, best_value)
        chosen.append(best)
        covered.update(c.doc_id for c in best.chunks)
    themes = merge_twins(chosen)
    if len(themes) < 2 and len({c.doc_type for c in pool}) >= 2:
        themes = by_doc_type(pool)
    return themes[: cfg.max_sections] or [Theme("Relevant resources", set(), pool)]


def by_doc_type(pool: list[Chunk]) -> list[Theme]:
    """The fallback sections: one per document type among the passages."""
    groups: dict[str, list[Chunk]] = {}
    for c in pool:
        groups.setdefault(c.doc_type or "other", []).append(c)
    return [Theme(doc_type_group(k), set(), v) for k, v in groups.items()]


def phrase_in(label: str, request: str) -> bool:
    """The label occurs as a phrase in the request, allowing a coordination ('green and digital transition')."""
    wanted = terms(label)
    seq = [(w, (terms(w) or [""])[0]) for w in words(request)]
    for start, (_, stem) in enumerate(seq):
        if stem != wanted[0]:
            continue
        i, ok = start + 1, True
        for term in wanted[1:]:
            gap: list[str] = []
            while i < len(seq) and seq[i][1] != term and len(gap) < 4:
                gap.append(seq[i][0])
                i += 1
            content = [w for w in gap if terms(w)]
            if i >= len(seq) or seq[i][1] != term or (content and not {"and", "or", "&"} & set(gap)):
                ok = False
                break
            i += 1
        if ok:
            return True
    return False


def tagged(chunk: Chunk, label: str) -> bool:
    """The passage's document carries the topic label."""
    return label.casefold() in {t.casefold() for t in chunk.topics}


def fits(chunk: Chunk, label: str, t_terms: set[str]) -> bool:
    """A passage belongs to a theme when it names all the theme's terms, or most of them and is tagged so."""
    present = term_set(chunk.embed_text())
    share = len(t_terms & present) / len(t_terms)
    return share == 1.0 or (tagged(chunk, label) and share >= 0.5)


def merge_twins(chosen: list[Theme]) -> list[Theme]:
    """'green transition' + 'digital transition' → 'green and digital transition' (same last word)."""
    out: list[Theme] = []
    for theme in chosen:
        parts = theme.label.split()
        twin = next((t for t in out if len(parts) > 1 and t.label.split()[-1].casefold() == parts[-1].casefold()), None)
        if twin is None:
            out.append(Theme(theme.label, set(theme.terms), list(theme.chunks), theme.prior))
            continue
        head = twin.label.rsplit(" ", 1)[0]
        twin.label = f"{head} and {' '.join(parts[:-1])} {parts[-1]}"
        twin.terms |= theme.terms
        twin.chunks += [c for c in theme.chunks if c.id not in {x.id for x in twin.chunks}]
    return out
