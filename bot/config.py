"""The components' settings: one described pydantic model per component, each default declared once here.

A leaf module (it imports nothing from `bot`), so `bot.settings.Settings` nests these models and the
components import them without a cycle. `build_components` hands each component its part of the tree;
a component built without one (a unit test) gets the model's own defaults, which are the same.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Part(BaseModel):
    """A settings group: unknown keys are errors (a typo in HELPDESK_RETRIEVAL__DENSEK is not ignored)."""

    model_config = ConfigDict(extra="forbid")


class RetrievalConfig(_Part):
    """Knobs of the ranking (defaults tuned on the dev set with `helpdesk eval`)."""

    dense_k: int = Field(default=60, ge=0, description="chunks the vector search returns before fusion")
    lexical_k: int = Field(default=60, ge=0, description="chunks the BM25 search returns before fusion")
    dense_weight: float = Field(
        default=0.25, ge=0, description="weight of the dense ranking in reciprocal-rank fusion (BM25 weighs 1)"
    )
    dense_weight_other_language: float = Field(
        default=10.0, ge=0, description="dense weight when the question is not in English (BM25 matches little)"
    )
    max_per_doc: int = Field(default=3, ge=1, description="passages one document may place in the ranking")
    refresh_seconds: float = Field(
        default=2.0, ge=0, description="how often (at most) a question re-checks the store for new documents"
    )
    sentence_passages: int = Field(
        default=5,
        ge=0,
        description="top passages whose stored sentence vectors come with the ranking (the evidence step and "
        "the extractive answerer read the top 5, so they need not embed those sentences per question)",
    )


class AnswerabilityConfig(_Part):
    """The refusal step's floor (the answerability model itself is bot/answerability.json)."""

    min_dense: float = Field(
        default=0.05, description="below this best-passage similarity a question is not covered, whatever else"
    )


class AskConfig(_Part):
    """Limits and sizes of one question."""

    max_question_chars: int = Field(default=4000, ge=1, description="longer questions get a clear message")
    retrieve_k: int = Field(default=20, ge=1, description="passages retrieved per question")
    passages: int = Field(default=5, ge=1, description="top passages the refusal step and the answerer read")
    max_history_turns: int = Field(default=6, ge=0, description="earlier turns a follow-up question may use")


class ExtractiveConfig(_Part):
    """Knobs of the offline answer's sentence selection."""

    max_sentences: int = Field(default=3, ge=1, description="sentences in an extractive answer")
    max_words: int = Field(default=110, ge=1, description="words in an extractive answer")
    relative_floor: float = Field(
        default=0.7, ge=0, description="a sentence scoring below this share of the best one is left out"
    )
    redundancy: float = Field(
        default=0.6, ge=0, description="term overlap (Jaccard) above which a sentence repeats one already chosen"
    )
    w_dense: float = Field(default=0.45, description="weight of the sentence's similarity to the question")
    w_terms: float = Field(
        default=0.4, description="weight of the question's key terms (idf-weighted) the sentence contains"
    )
    w_rank: float = Field(default=0.15, description="weight of its passage's rank (divided by 1 + rank)")
    passage_focus: float = Field(
        default=0.5,
        description="share of a sentence's score scaled by its passage's coverage of the question's key terms",
    )
    w_type: float = Field(
        default=0.15, description="added when the sentence has the answer type asked for (a date, an amount, …)"
    )


class DraftConfig(_Part):
    """Sizes of a drafted reply."""

    pool_k: int = Field(default=30, ge=1, description="passages retrieved for a request")
    theme_k: int = Field(default=12, ge=1, description="passages retrieved per candidate theme")
    max_sections: int = Field(default=4, ge=1, description="themed sections in a draft")
    max_practices: int = Field(default=3, ge=1, description="practices quoted per section")
    sentences_per_practice: int = Field(default=2, ge=1, description="sentences quoted per practice")
    min_topic_match: float = Field(
        default=0.6, ge=0, le=1, description="share of a theme label's (idf-weighted) terms the request must contain"
    )
    min_passage_coverage: float = Field(
        default=0.2, ge=0, le=1, description="share of the request's weighted terms a passage must cover"
    )
    relative_floor: float = Field(
        default=0.05, ge=0, description="a passage below this share of the best retrieval score is not used"
    )
    min_request_coverage: float = Field(
        default=0.3, ge=0, le=1, description="below this coverage of the request the draft says it is not covered"
    )
    selector: ExtractiveConfig = Field(
        default_factory=lambda: ExtractiveConfig(max_sentences=12, max_words=600, relative_floor=0.0),
        description="sentence selection within one document (the chat answer's scoring, keeping more candidates)",
    )


class TransferConfig(_Part):
    """Knobs of the transfer finder (the weights are those stated in bot/transfer.py's docstring)."""

    candidates: int = Field(default=40, ge=1, description="passages retrieved for a challenge")
    results: int = Field(default=8, ge=1, description="practices returned")
    min_relevance: float = Field(
        default=0.3, ge=0, description="a passage below this share of the best retrieval score is not considered"
    )
    min_evidence: float = Field(
        default=0.6, ge=0, description="nor one whose best sentence scores below this share of the best sentence"
    )
    w_retrieval: float = Field(default=0.5, description="weight of the retrieval score")
    w_evidence: float = Field(default=0.5, description="weight of the best evidence sentence's score")
    good_practice_bonus: float = Field(
        default=0.10, description="added for a good-practice document or one stating a transfer"
    )
    place_in_evidence_bonus: float = Field(default=0.05, description="added when the cited sentences name the place")
    unplaced_factor: float = Field(
        default=0.6, description="factor for a practice whose text and metadata name no place"
    )
    same_place_decay: float = Field(default=0.5, description="factor per earlier practice from the same place")
    same_document_decay: float = Field(default=0.7, description="factor per earlier practice from the same document")
    selector: ExtractiveConfig = Field(
        default_factory=lambda: ExtractiveConfig(max_sentences=2, max_words=90, relative_floor=0.8),
        description="the evidence sentences quoted for each practice",
    )


class ChunkingConfig(_Part):
    """How documents are cut into passages (changing it re-chunks the library on the next ingest)."""

    chunk_size: int = Field(default=384, ge=16, description="chunk size in tokens")
    chunk_overlap: int = Field(default=48, ge=0, description="chunk overlap in tokens")


class LoaderLimits(_Part):
    """Limits that protect the process from hostile files."""

    max_file_mb: float = Field(default=50.0, gt=0, allow_inf_nan=False, description="largest file ingested (MiB)")
    max_pdf_pages: int = Field(default=2000, ge=1, description="PDFs with more pages are refused")


class LLMAnswerConfig(_Part):
    """How a language model answers (the endpoint and model name are the flat llm_* settings)."""

    max_tokens: int = Field(default=400, ge=1, description="longest answer, in tokens")
    temperature: float = Field(default=0.1, ge=0, le=2, description="sampling temperature")
    passage_words: int | None = Field(
        default=None, ge=1, description="words of each passage in the prompt (unset: whole passages)"
    )
    passages: int | None = Field(
        default=None, ge=1, description="passages in the prompt (unset: every passage the question retrieved for it)"
    )


class LocalLLMConfig(LLMAnswerConfig):
    """The local model's answer, sized for 2 cores (each token costs ~0.1-0.2 s, the prompt ≈ 80 tok/s)."""

    max_tokens: int = Field(default=160, ge=1, description="a short cited answer")
    temperature: float = Field(default=0.0, ge=0, le=2, description="sampling temperature")
    passage_words: int | None = Field(
        default=60, ge=1, description="words per passage: the answer-bearing sentences and their neighbours"
    )
    passages: int | None = Field(
        default=4, ge=1, description="the reranked top passages the model reads (recall@3 is 0.97 on dev)"
    )


# Named presets for evaluation runs (HELPDESK_PRESET=dense-only helpdesk eval): ablations of the shipped
# defaults, not tuned alternatives. A preset sets defaults of the groups; a variable set explicitly wins.
# No "lexical-only": the refusal step reads the dense similarity, so without the dense search it refuses all.
PRESETS: dict[str, dict[str, dict[str, object]]] = {
    "dense-only": {"retrieval": {"lexical_k": 0}},
    "one-passage-per-document": {"retrieval": {"max_per_doc": 1}},
    "long-answers": {"extractive": {"max_sentences": 6, "max_words": 220}},
}
