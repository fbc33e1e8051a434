"""Helpdesk-reply drafts built offline from the library: themes of good practices, services, references.

A draft has the shape of a real helpdesk reply (see the seed reply on clusters): a greeting, a framing
paragraph, 2–4 "Policy insights" sections grouped by theme, a section on the Policy Learning Platform's
support services and a numbered reference list. Every sentence about a practice is quoted from a library
passage and cited [n] into the reference list; nothing is invented. Themes are the library's own topic
labels that the request names, chosen greedily so that each covers different passages (falling back to
document types); sentences are picked with the offline extractive answerer's query-focused scoring.
Text from documents is data: sentences that address an assistant are never quoted.
Written by hand: no maintained library drafts cited, themed replies from retrieved passages.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.answering.extractive import ExtractiveAnswerer
from bot.assistant import clean_question
from bot.citations import MARKER, cite, end_sentence, strip_bullet
from bot.config import DraftConfig
from bot.draft_records import Draft, InsightSection, Practice, Reference, ServiceNote
from bot.draft_records import escape_tags as _esc
from bot.lexical import QUESTION_WORDS, fold, proper_names, sentences, term_set, terms, words
from bot.refusal import UNKNOWN_TERM_IDF
from bot.retrieval import HybridRetriever
from bot.safety import is_instruction
from bot.types import Chunk, Filters

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

log = logging.getLogger(__name__)

GENERIC_SERVICES = (
    "If you would like to take this further, please get back to us: we will gladly look at how the Policy "
    "Learning Platform can support your policy challenge."
)
NOT_COVERED = (
    "Our library does not hold documents that cover this request, so we cannot point you to good practices "
    "on it yet. Please get back to us with more detail and we will look into it."
)
DOC_TYPE_NAMES = {
    "good_practice": ("good practice", "good practices"),
    "policy_brief": ("policy brief", "policy briefs"),
    "helpdesk_reply": ("helpdesk reply", "helpdesk replies"),
    "project_summary": ("project summary", "project summaries"),
    "article": ("article", "articles"),
}
# The platform's support services and how the library names them
SERVICES = (
    ("Matchmaking sessions", re.compile(r"\bmatchmakings?\b", re.I)),
    ("Peer reviews", re.compile(r"\bpeer[- ]reviews?\b", re.I)),
    ("Helpdesk", re.compile(r"\bhelp ?desk\b", re.I)),
    ("Workshops and webinars", re.compile(r"\b(?:online|thematic) workshops?\b|\bwebinars?\b", re.I)),
)
# Words of a request letter that name nothing to look for ("we would like to know ...").
LETTER_WORDS = frozenset(
    terms(
        "we us our would like know need needs want wants looking look interested interest information help "
        "please dear regards thank thanks kind best hello hi question questions request wondering grateful"
    )
)
_OFFER = re.compile(r"\b(?:offers?|offered|services?|platform|we|our|organised|run)\b", re.I)
_DEFINES = re.compile(r"\b(?:is|are|offers?|provides?|allows?|helps?|gives?|brings?|lets?)\b", re.I)
_OUR_VOICE = re.compile(r"\b(?:we|our|us)\b", re.I)
_DEAD_LINK = re.compile(r"\[([^\]\n]+)\]\((?:#[^)]*)?\)")


@dataclass
class _Theme:
    """A candidate section: its label, the label's terms and the passages that fit it."""

    label: str
    terms: set[str]
    chunks: list[Chunk]
    prior: float = 1.0


class _References:
    """Numbers passages by first use; one entry per document and page/section."""

    def __init__(self) -> None:
        self.items: list[Reference] = []
        self._by_key: dict[tuple[str, str], int] = {}

    def cite(self, chunk: Chunk) -> int:
        location = f"p. {chunk.page}" if chunk.page is not None else _section_label(chunk)
        key = (chunk.doc_id, location)
        if key not in self._by_key:
            n = len(self.items) + 1
            self._by_key[key] = n
            self.items.append(
                Reference(n, chunk.title, location, _http(chunk.source_url), chunk.doc_id, chunk.source_path)
            )
        return self._by_key[key]


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

    # ---- evidence ---------------------------------------------------------------------------
    def _weights(self, text: str) -> dict[str, float]:
        """idf of the request's key terms; the words of a letter and the names of its sender weigh little."""
        lex = self.retriever.lexical_index
        names = {t for n in proper_names(text) for t in terms(n)}
        return {
            t: lex.idf(t) * (0.25 if t in names else 1.0)
            for t in dict.fromkeys(terms(text))
            if t not in QUESTION_WORDS and t not in LETTER_WORDS and t in lex.df
        }

    def _unknown_share(self, query: str, weights: dict[str, float]) -> float:
        """Share of the request's weight on terms the library knows; names (people, bodies) do not count."""
        names = {t for n in proper_names(query) for t in terms(n)}
        unknown = {
            t
            for t in terms(query)
            if t not in weights and t not in QUESTION_WORDS and t not in LETTER_WORDS and t not in names and len(t) > 2
        }
        known = sum(weights.values())
        return known / (known + UNKNOWN_TERM_IDF * len(unknown)) if known else 0.0

    def _local(self, query: str, region: str) -> list[Chunk]:
        """The passages best matching the request among documents from the requester's region or country."""
        wanted = region.casefold()
        places: set[tuple[str, str]] = set()
        for rec in self.retriever.records.values():
            if rec.country and rec.country.casefold() == wanted:
                places.add(("country", rec.country))
            if rec.region and wanted in rec.region.casefold():
                places.add(("region", rec.region))
        out: dict[str, Chunk] = {}
        for field_name, value in sorted(places):
            for c in self.retriever.retrieve(query, k=6, filters=Filters(**{field_name: value})).chunks:
                out.setdefault(c.id, c)
        return list(out.values())

    def _pool(self, query: str, k: int, weights: dict[str, float]) -> list[Chunk]:
        """Retrieved passages that share enough of the request's key terms."""
        chunks = self.retriever.retrieve(query, k=k).chunks
        if not chunks:
            return []
        floor = self.config.relative_floor * chunks[0].score
        return [c for c in chunks if c.score >= floor and _coverage(c, weights) >= self.config.min_passage_coverage]

    def _themes(
        self, query: str, pool: list[Chunk], weights: dict[str, float], topic: str | None, local: set[str]
    ) -> list[_Theme]:
        """Library topics the request names, chosen greedily so that each brings documents not yet covered."""
        cfg = self.config
        labels: dict[str, str] = {}
        for rec in self.retriever.records.values():
            for t in rec.topics:
                labels.setdefault(t.casefold(), t)
        if topic:
            labels[topic.casefold()] = topic
        lex = self.retriever.lexical_index
        order = list(weights)
        candidates: list[_Theme] = []
        for key, label in labels.items():
            t_terms = set(terms(label))
            if not t_terms:
                continue
            t_weight = {t: lex.idf(t) if t in lex.df else 9.0 for t in t_terms}
            match = sum(w for t, w in t_weight.items() if t in weights) / (sum(t_weight.values()) or 1.0)
            if topic and key == topic.casefold():
                match = 2.0  # asked for explicitly
            if match < cfg.min_topic_match or not (match > 1 or _phrase_in(label, query)):
                continue
            # the request's subject comes first ("how can clusters ... support SMEs?"): earlier terms weigh more
            first = min((order.index(t) for t in t_terms if t in order), default=len(order))
            # specific labels (rare terms, several words) make better sections than "innovation"
            specificity = sum(t_weight.values()) / len(t_weight) * (1 + 0.25 * (len(t_terms) - 1))
            prior = match * specificity / (1 + 0.1 * first)
            # passages from the requester's region count when tagged with the topic, in whatever language
            found = {c.id: c for c in pool if _fits(c, label, t_terms) or (c.id in local and _tagged(c, label))}
            for c in self._pool(f"{label}. {query}", cfg.theme_k, weights):
                if c.id not in found and _fits(c, label, t_terms):
                    found[c.id] = c
            chunks = sorted(found.values(), key=lambda c: -c.score)
            if chunks:
                candidates.append(_Theme(label, t_terms, chunks, prior))
        # a label contained in a longer matching one ("vouchers" in "innovation vouchers") is left out
        candidates = [c for c in candidates if not any(c.terms < o.terms for o in candidates)]
        chosen: list[_Theme] = []
        covered: set[str] = set()
        while len(chosen) < cfg.max_sections:
            best, best_value = None, 0.0
            for cand in candidates:
                if any(cand.terms <= c.terms or c.terms <= cand.terms for c in chosen):
                    continue
                docs: dict[str, float] = {}
                for c in cand.chunks:
                    docs[c.doc_id] = max(docs.get(c.doc_id, 0.0), _coverage(c, weights))
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
        themes = _merge_twins(chosen)
        if len(themes) < 2 and len({c.doc_type for c in pool}) >= 2:
            themes = self._by_doc_type(pool)
        return themes[: cfg.max_sections] or [_Theme("Relevant resources", set(), pool)]

    @staticmethod
    def _by_doc_type(pool: list[Chunk]) -> list[_Theme]:
        groups: dict[str, list[Chunk]] = {}
        for c in pool:
            groups.setdefault(c.doc_type or "other", []).append(c)
        return [
            _Theme(DOC_TYPE_NAMES.get(k, (k, k.replace("_", " ") + "s"))[1].capitalize(), set(), v)
            for k, v in groups.items()
        ]

    # ---- writing ----------------------------------------------------------------------------
    def _practices(
        self, theme: _Theme, request: str, refs: _References, used: set[str], region: str | None, local: set[str]
    ) -> list[Practice]:
        by_doc: dict[str, list[Chunk]] = {}
        for c in theme.chunks:
            by_doc.setdefault(c.doc_id, []).append(c)
        docs = list(by_doc.values())
        if region:  # practices from the requester's region first
            docs.sort(key=lambda cs: not _from_region(cs[0], region))
        out: list[Practice] = []
        for doc_chunks in docs:
            if len(out) >= self.config.max_practices:
                break
            passages = doc_chunks[:3]
            picked = [
                c
                for c in self.selector.select(f"{theme.label}. {request}", passages)
                if _key(c.text) not in used
                and _quotable(c.text)
                and not _reserved_for_services(c.text)
                and (
                    not theme.terms
                    or len(c.terms & theme.terms) >= 0.5 * len(theme.terms)
                    or (passages[c.passage].id in local and _tagged(passages[c.passage], theme.label))
                )
            ]
            picked = sorted(picked, key=lambda c: -c.score)[: self.config.sentences_per_practice]
            if not picked:
                continue
            picked = [c for c in picked if c.score >= 0.5 * picked[0].score]
            parts = []
            for cand in sorted(picked, key=lambda c: (c.passage, c.position)):
                used.add(_key(cand.text))
                parts.append(cite(_clean_sentence(cand.text), refs.cite(passages[cand.passage])))
            first = passages[0]
            out.append(
                Practice(
                    title=first.title,
                    place=_place(first),
                    text=" ".join(parts),
                    url=_http(first.source_url),
                    doc_type=first.doc_type,
                )
            )
        return out

    def _services(self, request_terms: dict[str, float], refs: _References, used: set[str]) -> list[ServiceNote]:
        """Services the library describes as the platform's, each with its best describing sentence."""
        notes = []
        for name, pattern in SERVICES:
            best: tuple[float, str, Chunk] | None = None
            for chunk in self.retriever.lexical_index.chunks:
                context = fold(f"{chunk.title} {chunk.section} {chunk.text}")
                if not pattern.search(chunk.text) or ("platform" not in context and chunk.doc_type != "helpdesk_reply"):
                    continue
                for sent in sentences(chunk.text):
                    m = pattern.search(sent)
                    if not m or is_instruction(sent) or len(sent.split()) < 5 or _key(sent) in used:
                        continue
                    opens = m.start() <= 4 or sent.lstrip("-*• ").lower().startswith(m.group(0).lower())
                    defines = _DEFINES.search(sent[: m.end() + 40]) if opens else _OFFER.search(sent)
                    if not defines or not _quotable(sent):
                        continue
                    overlap = len(term_set(f"{chunk.section} {sent}") & set(request_terms)) / (len(request_terms) or 1)
                    score = 2.0 * opens + 2.0 * overlap + (0.3 if "policy learning platform" in context else 0.0)
                    score -= 0.002 * len(sent)
                    if best is None or score > best[0]:
                        best = (score, sent, chunk)
            if best is not None:
                used.add(_key(best[1]))
                notes.append(ServiceNote(name, cite(_clean_sentence(best[1]), refs.cite(best[2]))))
        return notes

    def draft(self, request_text: str, region: str | None = None, topic: str | None = None) -> Draft:
        """A themed, cited reply to a helpdesk request; says so plainly when the library does not cover it."""
        request = clean_question(request_text, 20_000)
        region = (region or "").strip() or None
        topic = (topic or "").strip() or None
        self.retriever.refresh()
        query = f"{topic}. {request}" if topic else request
        weights = self._weights(query)
        pool = self._pool(query, self.config.pool_k, weights)
        if pool and self._unknown_share(query, weights) * max(_coverage(c, weights) for c in pool) < (
            self.config.min_request_coverage
        ):
            pool = []  # the request is about words the library never uses ("salary", "lasagne")
        refs = _References()
        greeting = "Dear colleague,"
        quoted = request if len(request) <= 400 else request[:400].rsplit(" ", 1)[0] + "…"
        if not pool:
            return Draft(
                request=request,
                subject=topic or "your request",
                greeting=greeting,
                framing=f"Thank you for your request to the Policy Learning Platform helpdesk: “{_esc(quoted)}” "
                + NOT_COVERED,
                services_intro=GENERIC_SERVICES,
                closing=_closing(),
                covered=False,
            )
        local: set[str] = set()
        if region:
            seen = {c.id for c in pool}
            for c in self._local(query, region):
                local.add(c.id)
                if c.id not in seen:
                    pool.append(c)
        themes = self._themes(query, pool, weights, topic, local)
        used: set[str] = set()
        sections = []
        for theme in themes:
            practices = self._practices(theme, query, refs, used, region, local)
            if practices:
                sections.append(InsightSection(_theme_title(theme.label), _intro(theme.label, practices), practices))
        services = self._services(weights, refs, used)
        subject = (
            topic
            or _join([s.theme.lower() if s.theme[:2] != s.theme[:2].upper() else s.theme for s in sections])
            or "your request"
        )
        docs = {p.title for s in sections for p in s.practices}
        framing = (
            f"Thank you for your request to the Policy Learning Platform helpdesk: “{_esc(quoted)}” "
            f"Below we summarise {_plural(len(docs), 'resource')} from our library, grouped in "
            f"{_plural(len(sections), 'theme')}, each with a link to learn more where one exists; then support "
            "services that may help you, and the list of references."
        )
        if region:
            local = [p for s in sections for p in s.practices if region.casefold() in p.place.casefold()]
            framing += (
                f" Practices from {_esc(region)} are listed first."
                if local
                else f" The library holds no practice from {_esc(region)} on this subject, so the examples below "
                "come from other regions."
            )
        intro = (
            "The Policy Learning Platform offers services that might be of interest to you for responding to "
            "your policy challenge:"
            if services
            else GENERIC_SERVICES
        )
        return Draft(
            request=request,
            subject=subject,
            greeting=greeting,
            framing=framing,
            sections=sections,
            services_intro=intro,
            services=services,
            closing=_closing(),
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


# ---- small pure helpers -----------------------------------------------------------------------
def _http(url: str) -> str:
    url = (url or "").strip()
    return url if url.startswith(("http://", "https://")) and not re.search(r"[\s<>]", url) else ""


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def _phrase_in(label: str, request: str) -> bool:
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


def _coverage(chunk: Chunk, weights: dict[str, float]) -> float:
    """Share (idf-weighted) of the request's key terms that a passage contains."""
    present = term_set(chunk.embed_text())
    return sum(w for t, w in weights.items() if t in present) / (sum(weights.values()) or 1.0)


def _tagged(chunk: Chunk, label: str) -> bool:
    return label.casefold() in {t.casefold() for t in chunk.topics}


def _fits(chunk: Chunk, label: str, t_terms: set[str]) -> bool:
    """A passage belongs to a theme when it names all the theme's terms, or most of them and is tagged so."""
    present = term_set(chunk.embed_text())
    share = len(t_terms & present) / len(t_terms)
    return share == 1.0 or (_tagged(chunk, label) and share >= 0.5)


def _merge_twins(chosen: list[_Theme]) -> list[_Theme]:
    """'green transition' + 'digital transition' → 'green and digital transition' (same last word)."""
    out: list[_Theme] = []
    for theme in chosen:
        parts = theme.label.split()
        twin = next((t for t in out if len(parts) > 1 and t.label.split()[-1].casefold() == parts[-1].casefold()), None)
        if twin is None:
            out.append(_Theme(theme.label, set(theme.terms), list(theme.chunks), theme.prior))
            continue
        head = twin.label.rsplit(" ", 1)[0]
        twin.label = f"{head} and {' '.join(parts[:-1])} {parts[-1]}"
        twin.terms |= theme.terms
        twin.chunks += [c for c in theme.chunks if c.id not in {x.id for x in twin.chunks}]
    return out


def _quotable(sentence: str) -> bool:
    """A whole sentence: capitalised, ends like one, not Title Case, not cut inside brackets ('(e.g. etc.')."""
    s = re.sub(r"^[-*•\s]+|^\(?\d+[.)]\s*", "", sentence.strip()).lstrip("*“\"'‘(")
    if not s or not (s[0].isupper() or s[0].isdigit()):
        return False
    if not re.search(r"[.!?][\"'”’)\]*]*$", sentence.strip()):
        return False
    tokens = [w for w in re.findall(r"[^\W\d_][\w'’-]*", s)]
    if len(tokens) >= 5 and sum(w[0].isupper() for w in tokens) > 0.6 * len(tokens):
        return False  # a list of names or a heading, not a sentence
    return sentence.count("(") == sentence.count(")") and sentence.count("[") == sentence.count("]")


def _reserved_for_services(sentence: str) -> bool:
    """The platform speaking about one of its services ('our online workshop'): quoted under services."""
    return bool(_OUR_VOICE.search(sentence)) and any(p.search(sentence) for _, p in SERVICES)


def _theme_title(label: str) -> str:
    return label[:1].upper() + label[1:]


def _section_label(chunk: Chunk) -> str:
    """The heading path without the document's own title (its first heading)."""
    parts = [p.strip() for p in chunk.section.split(">") if p.strip()]
    if len(parts) > 1 or (parts and _similar(parts[0], chunk.title)):
        parts = parts[1:]
    return " – ".join(parts)


def _similar(a: str, b: str) -> bool:
    ta, tb = term_set(a), term_set(b)
    return bool(ta and tb) and len(ta & tb) / len(ta | tb) >= 0.5


def _place(chunk: Chunk) -> str:
    country = {"eu": "EU level", "multiple": "several countries", "": ""}.get(chunk.country.casefold(), chunk.country)
    return ", ".join(x for x in (chunk.region, country) if x)


def _from_region(chunk: Chunk, region: str) -> bool:
    r = region.casefold()
    return r in chunk.region.casefold() or r == chunk.country.casefold()


def _count(n: int, doc_type: str) -> str:
    one, many = DOC_TYPE_NAMES.get(doc_type, ("resource", "resources"))
    numerals = {1: "a" if one[0] not in "aeiou" else "an", 2: "two", 3: "three", 4: "four"}
    return f"{numerals.get(n, str(n))} {one if n == 1 else many}"


def _intro(theme: str, practices: list[Practice]) -> str:
    counts: dict[str, int] = {}
    for p in practices:
        counts[p.doc_type] = counts.get(p.doc_type, 0) + 1
    kinds = _join([_count(n, t) for t, n in counts.items()])
    name = theme.lower() if theme[1:2].islower() else theme
    return f"On {_esc(name)}, our library holds {kinds} relevant to your question."


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _join(items: Iterable[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _clean_sentence(sentence: str) -> str:
    """A quoted sentence made safe to embed: no list bullet, stray [n], dead links or unbalanced bold; escaped."""
    s = MARKER.sub("", strip_bullet(sentence))
    s = _DEAD_LINK.sub(r"\1", s)
    if s.count("**") % 2:
        s = s.replace("**", "")
    s = " ".join(s.split())
    return end_sentence(_esc(s))


def _closing() -> str:
    return "We hope this is useful. Kind regards,\n\nThe Policy Learning Platform helpdesk team"
