"""Sentences quoted from the library and cited [n]: practices per theme, the platform's services, references."""

from __future__ import annotations

import re

from bot.answering.extractive import ExtractiveAnswerer
from bot.citations import MARKER, cite, end_sentence, strip_bullet
from bot.config import DraftConfig
from bot.draft_records import Practice, Reference, ServiceNote
from bot.draft_records import escape_tags as _esc
from bot.draft_themes import Theme, tagged
from bot.lexical import fold, sentences, term_set
from bot.retrieval import HybridRetriever
from bot.safety import is_instruction
from bot.types import Chunk

# The platform's support services and how the library names them
SERVICES = (
    ("Matchmaking sessions", re.compile(r"\bmatchmakings?\b", re.I)),
    ("Peer reviews", re.compile(r"\bpeer[- ]reviews?\b", re.I)),
    ("Helpdesk", re.compile(r"\bhelp ?desk\b", re.I)),
    ("Workshops and webinars", re.compile(r"\b(?:online|thematic) workshops?\b|\bwebinars?\b", re.I)),
)
_OFFER = re.compile(r"\b(?:offers?|offered|services?|platform|we|our|organised|run)\b", re.I)
_DEFINES = re.compile(r"\b(?:is|are|offers?|provides?|allows?|helps?|gives?|brings?|lets?)\b", re.I)
_OUR_VOICE = re.compile(r"\b(?:we|our|us)\b", re.I)
_DEAD_LINK = re.compile(r"\[([^\]\n]+)\]\((?:#[^)]*)?\)")


class References:
    """Numbers passages by first use; one entry per document and page/section."""

    def __init__(self) -> None:
        self.items: list[Reference] = []
        self._by_key: dict[tuple[str, str], int] = {}

    def cite(self, chunk: Chunk) -> int:
        """The passage's reference number, adding an entry the first time its document and place are cited."""
        location = f"p. {chunk.page}" if chunk.page is not None else _section_label(chunk)
        key = (chunk.doc_id, location)
        if key not in self._by_key:
            n = len(self.items) + 1
            self._by_key[key] = n
            self.items.append(
                Reference(n, chunk.title, location, _http(chunk.source_url), chunk.doc_id, chunk.source_path)
            )
        return self._by_key[key]


def quote_practices(
    selector: ExtractiveAnswerer,
    config: DraftConfig,
    theme: Theme,
    request: str,
    refs: References,
    used: set[str],
    region: str | None,
    local: set[str],
) -> list[Practice]:
    """One practice per document of the theme, told in its own best sentences on the theme, each cited."""
    by_doc: dict[str, list[Chunk]] = {}
    for c in theme.chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    docs = list(by_doc.values())
    if region:  # practices from the requester's region first
        docs.sort(key=lambda cs: not _from_region(cs[0], region))
    out: list[Practice] = []
    for doc_chunks in docs:
        if len(out) >= config.max_practices:
            break
        passages = doc_chunks[:3]
        picked = [
            c
            for c in selector.select(f"{theme.label}. {request}", passages)
            if _key(c.text) not in used
            and _quotable(c.text)
            and not _reserved_for_services(c.text)
            and (
                not theme.terms
                or len(c.terms & theme.terms) >= 0.5 * len(theme.terms)
                or (passages[c.passage].id in local and tagged(passages[c.passage], theme.label))
            )
        ]
        picked = sorted(picked, key=lambda c: -c.score)[: config.sentences_per_practice]
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


def quote_services(
    retriever: HybridRetriever, request_terms: dict[str, float], refs: References, used: set[str]
) -> list[ServiceNote]:
    """Services the library describes as the platform's, each with its best describing sentence."""
    notes = []
    for name, pattern in SERVICES:
        best: tuple[float, str, Chunk] | None = None
        for chunk in retriever.lexical_index.chunks:
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


def _http(url: str) -> str:
    url = (url or "").strip()
    return url if url.startswith(("http://", "https://")) and not re.search(r"[\s<>]", url) else ""


def _key(text: str) -> str:
    return " ".join(text.lower().split())


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


def _clean_sentence(sentence: str) -> str:
    """A quoted sentence made safe to embed: no list bullet, stray [n], dead links or unbalanced bold; escaped."""
    s = MARKER.sub("", strip_bullet(sentence))
    s = _DEAD_LINK.sub(r"\1", s)
    if s.count("**") % 2:
        s = s.replace("**", "")
    s = " ".join(s.split())
    return end_sentence(_esc(s))
