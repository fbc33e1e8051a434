"""Sentence-level evidence: does some sentence of the top passages answer what the question asks?

Features (all in 0..1, the same in the product and the evals; the combiner in bot/refusal.py weighs them):
- coverage: idf-weighted share of the question's key terms found in the best single passage;
- sent_sim / focus_sim: best cosine between a sentence and the question / its focus (the question without
  question and stop words), through the multilingual embedder: "voucher schemes that could inspire us"
  meets "innovation vouchers" by meaning even where the words differ;
- subject: the best joint score of a sentence being about the question's subject (its names and acronyms,
  else its two rarest key terms; the passage's title and heading count as what the sentence is about) and
  containing the rest of what is asked (the relation: "lead partner");
- sent_cov: the best idf-weighted share of the key terms found in one sentence (with its passage's title
  and heading): sentence-level, not passage-level, coverage;
- typed_cov: the same among sentences that contain the expected answer type (amount, date, organisation,
  place: bot/answer_types.py) — the answer-bearing sentence; equal to sent_cov when no type is expected;
- unknown_name, missing_year: a name the (visible) library never uses; a year no top passage mentions;
- dense_top, agree, foreign: the best passage's dense similarity, whether dense and BM25 agree on the top
  document, and whether the question is not in English (its words cannot match English passages).
Per-passage features are kept too: the reranker (bot/rerank.py) reorders the passages with them.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.answer_types import expected_type, has_type
from bot.lexical import QUESTION_WORDS, STOPWORDS, guess_language, proper_names, sentences, term_set, terms, words
from bot.retrieval import LexicalIndex, Retrieval
from bot.types import Chunk

UNKNOWN_TERM_IDF = 9.0
FEATURES = (
    "coverage",
    "sent_sim",
    "focus_sim",
    "subject",
    "sent_cov",
    "typed_cov",
    "unknown_name",
    "missing_year",
    "dense_top",
    "agree",
    "foreign",
)

# per passage, for the reranker (bot/rerank.py): fused retrieval score relative to the top, dense cosine,
# key-term coverage, best sentence similarity, best subject-and-relation sentence, best typed sentence
# coverage, and how much of the subject its title and heading name
PASSAGE_FEATURES = ("fused", "dense", "cov", "sent", "joint", "typed", "title")

Embed = Callable[[list[str]], np.ndarray]


class CachedEmbed:
    """An embedding function with a bounded, thread-safe cache by text (sentences are embedded by the evidence
    step and again by the extractive answerer)."""

    def __init__(self, embed: Embed, size: int = 8192) -> None:
        self.embed = embed
        self.size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            vecs = np.asarray(self.embed(missing), dtype=np.float32)
            with self._lock:
                for t, v in zip(missing, vecs, strict=True):
                    self._cache[t] = v
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        with self._lock:
            out = []
            for t in texts:
                v = self._cache.get(t)
                if v is None:  # evicted by a concurrent call: embed again
                    v = np.asarray(self.embed([t]), dtype=np.float32)[0]
                out.append(v)
        return np.stack(out) if out else np.zeros((0, 1), dtype=np.float32)

    def prime(self, known: dict[str, np.ndarray]) -> None:
        """Put vectors computed elsewhere (the sentence vectors stored at ingest) in the cache."""
        with self._lock:
            for t, v in known.items():
                self._cache[t] = np.asarray(v, dtype=np.float32)
                self._cache.move_to_end(t)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)


def known_first(embed: Embed, known: dict[str, np.ndarray]) -> Embed:
    """`embed` that takes the vectors of `known` texts as they are and embeds only the others."""

    def fn(texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        fresh = dict(zip(missing, np.asarray(embed(missing), dtype=np.float32), strict=True)) if missing else {}
        return np.stack([known[t] if t in known else fresh[t] for t in texts]) if texts else np.zeros((0, 1))

    return fn


@dataclass
class SentenceEvidence:
    """The features of one question, the best sentence per passage and a short explanation."""

    features: dict[str, float]
    passages: list[dict[str, float]] = field(default_factory=list)
    expected: str | None = None
    missing: list[str] = field(default_factory=list)
    unknown_names: list[str] = field(default_factory=list)
    missing_years: list[str] = field(default_factory=list)


def key_terms(question: str) -> list[str]:
    """Content terms of the question without question words, in order, deduplicated."""
    return [t for t in dict.fromkeys(terms(question)) if t not in QUESTION_WORDS]


CONTEXT_WEIGHT = 0.4
_SPLIT = re.compile(r"(?<=[.!?])\s+")


def asked_part(question: str) -> str:
    """The sentence that asks (the last one ending with "?"; the whole question when there is none): in
    "Our region wants to encourage SMEs ... Which voucher schemes could inspire us?" the rest is context."""
    parts = [p for p in _SPLIT.split(question.strip()) if p]
    asking = [p for p in parts if p.rstrip().endswith("?")]
    return asking[-1] if asking and len(parts) > 1 else question


def term_weights(question: str, idf: Callable[[str], float]) -> dict[str, float]:
    """idf weight of each key term; terms only in the context sentences count CONTEXT_WEIGHT as much."""
    asked = set(terms(asked_part(question)))
    return {t: idf(t) * (1.0 if t in asked else CONTEXT_WEIGHT) for t in key_terms(question)}


def focus_phrase(question: str) -> str:
    """The asking sentence without question words and stop words, in its own word forms."""
    kept = [w for w in words(asked_part(question)) if w not in STOPWORDS and not (set(terms(w)) <= QUESTION_WORDS)]
    return " ".join(dict.fromkeys(kept)) or question


def library_form(term: str, lexical: LexicalIndex, hidden: frozenset[str]) -> str:
    """The term, or the library's most used form sharing its stem's beginning when the term itself is unused
    ("lithuanian" → "lithuania"); terms shorter than 6 letters are kept as they are."""
    if lexical.known_without(term, hidden) or len(term) < 6:
        return term
    forms = [v for v in lexical.with_prefix(term[: max(5, len(term) - 3)]) if lexical.known_without(v, hidden)]
    return max(forms, key=lambda v: lexical.df.get(v, 0)) if forms else term


def name_known(name: str, lexical: LexicalIndex, hidden: frozenset[str]) -> bool:
    """Whether the visible library uses a name, or a form of it ("Lithuanian" → "Lithuania")."""
    for t in terms(name):
        if lexical.known_without(t, hidden):
            return True
        if len(t) >= 6 and any(lexical.known_without(v, hidden) for v in lexical.with_prefix(t[: max(5, len(t) - 3)])):
            return True
    return False


def candidate_sentences(chunk: Chunk) -> list[str]:
    """The sentences of a passage worth quoting (4–80 words, not a lead-in ending with a colon)."""
    out = []
    for sent in sentences(chunk.text):
        n = len(sent.split())
        if 4 <= n <= 80 and not (sent.rstrip().endswith(":") and n < 12):
            out.append(sent)
    return out


def subject_terms(question: str, weights: dict[str, float], form: Callable[[str], str] = lambda t: t) -> list[str]:
    """What the question is about: the terms of its names and acronyms, else its two rarest key terms."""
    named = [form(t) for n in proper_names(question) for t in terms(n) if form(t) in weights]
    if named:
        return list(dict.fromkeys(named))
    return sorted(weights, key=lambda t: -weights[t])[:2]


def _share(present: set[str] | frozenset[str], weights: dict[str, float], among: Sequence[str]) -> float:
    total = sum(weights[t] for t in among)
    return sum(weights[t] for t in among if t in present) / total if total else 1.0


def gather(
    question: str,
    retrieval: Retrieval,
    lexical: LexicalIndex,
    embed: Embed | None,
    passages: int = 5,
) -> SentenceEvidence:
    """The evidence features of the top `passages` retrieved passages for the question."""
    top = retrieval.chunks[:passages]
    hidden = retrieval.excluded
    if embed is not None and retrieval.sentence_vectors:  # stored at ingest: embed only what is not
        if isinstance(embed, CachedEmbed):
            embed.prime(retrieval.sentence_vectors)  # the extractive answerer shares this cache
        else:
            embed = known_first(embed, retrieval.sentence_vectors)
    variant = {t: library_form(t, lexical, hidden) for t in key_terms(question)}
    q_terms = list(dict.fromkeys(variant.values()))
    weights: dict[str, float] = {}
    for t, w in term_weights(question, lambda t: 1.0).items():
        v = variant[t]
        idf = lexical.idf(v) if lexical.known_without(v, hidden) else UNKNOWN_TERM_IDF
        weights[v] = max(weights.get(v, 0.0), idf * w)
    language = guess_language(question)
    # passage-level key-term coverage
    coverage, missing = 0.0, list(q_terms)
    per_passage = [dict.fromkeys(PASSAGE_FEATURES, 0.0) for _ in top]
    top_score = max((c.score for c in top), default=0.0) or 1.0
    cosine = {c.id: c.score for c in retrieval.dense}
    floor = min(cosine.values(), default=0.0)
    for p, chunk in enumerate(top):
        present = lexical.terms_of(chunk)
        cov = _share(present, weights, q_terms) if q_terms else 0.0
        per_passage[p].update(fused=chunk.score / top_score, cov=cov)
        per_passage[p]["dense"] = cosine.get(chunk.id, floor)
        if cov > coverage:
            coverage, missing = cov, [t for t in q_terms if t not in present]
    # names and years
    unknown = [n for n in proper_names(question) if terms(n) and not name_known(n, lexical, hidden)]
    top_text = " ".join(f"{c.embed_text()} {c.published}" for c in top)
    years = [y for y in re.findall(r"\b(?:19|20)\d\d\b", question) if y not in top_text]
    # sentences
    subject = subject_terms(question, weights, lambda t: variant.get(t, t))
    relation = [t for t in q_terms if t not in subject]
    kind = expected_type(question) if language == "en" else None
    places = frozenset(p.lower() for c in top for p in (c.country, c.region) if p and len(p) > 2)
    sents: list[tuple[int, str]] = [(p, s) for p, c in enumerate(top) for s in candidate_sentences(c)]
    heads = [term_set(f"{c.title} {c.section}") for c in top]
    for p, head in enumerate(heads):
        per_passage[p]["title"] = _share(head, weights, subject) if subject else 0.0
    sent_sim = focus_sim = 0.0
    dense = np.zeros(len(sents))
    if embed is not None and sents:
        vecs = embed([question, focus_phrase(question), *[s for _, s in sents]])
        dense = np.clip(vecs[2:] @ vecs[0], 0.0, 1.0)
        sent_sim = float(dense.max())
        focus_sim = float(np.clip(vecs[2:] @ vecs[1], 0.0, 1.0).max())
    joint_best = sent_cov = typed_cov = 0.0
    for (p, sent), d in zip(sents, dense, strict=True):
        st = term_set(sent)
        subj = _share(st | heads[p], weights, subject) if subject else 0.0
        rel = _share(st, weights, relation) if relation else subj
        joint = subj * rel
        joint_best = max(joint_best, joint)
        cov = _share(st | heads[p], weights, q_terms) if q_terms else 0.0
        sent_cov = max(sent_cov, cov)
        typed_here = has_type(sent, kind, places)
        if typed_here:
            typed_cov = max(typed_cov, cov)
        pf = per_passage[p]
        pf["sent"], pf["joint"] = max(pf["sent"], float(d)), max(pf["joint"], joint)
        pf["typed"] = max(pf["typed"], cov if typed_here else 0.0)
    features = {
        "coverage": coverage,
        "sent_sim": sent_sim,
        "focus_sim": focus_sim,
        "subject": joint_best if language == "en" else 0.0,
        "sent_cov": sent_cov,
        "typed_cov": typed_cov,
        "unknown_name": float(language == "en" and bool(unknown)),
        "missing_year": float(language == "en" and bool(years)),
        "dense_top": retrieval.dense[0].score if retrieval.dense else 0.0,
        "agree": float(_agree(retrieval)),
        "foreign": float(language != "en"),
    }
    return SentenceEvidence(
        features=features,
        passages=per_passage,
        expected=kind,
        missing=missing,
        unknown_names=unknown,
        missing_years=years,
    )


def _agree(retrieval: Retrieval) -> bool:
    lex_docs = [c.doc_id for c in retrieval.lexical[:5]]
    dense_docs = [c.doc_id for c in retrieval.dense[:5]]
    return bool(
        (retrieval.dense and retrieval.dense[0].doc_id in lex_docs)
        or (retrieval.lexical and retrieval.lexical[0].doc_id in dense_docs)
    )
