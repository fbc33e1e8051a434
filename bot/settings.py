"""The one Settings object: HELPDESK_* environment variables, an optional .env, and OPENAI_* conventions.

Flat settings (HELPDESK_CHROMA_PATH, …) configure the process; nested groups (HELPDESK_RETRIEVAL__DENSE_K,
…) are the components' parts (bot/config.py), which only `build_components` hands out. Five flat names
predate the groups and stay as aliases of a nested field: each pair holds one value (see `_one_value`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from bot.config import (
    PRESETS,
    AnswerabilityConfig,
    AskConfig,
    ChunkingConfig,
    DraftConfig,
    ExtractiveConfig,
    LLMAnswerConfig,
    LoaderLimits,
    LocalLLMConfig,
    RetrievalConfig,
    TransferConfig,
)
from bot.errors import SettingsInvalid

EMBED_MODELS = ("use-multilingual", "minilm-int8", "e5-small")


def _default(model: type[BaseModel], name: str) -> Any:
    """A field's default as its component model declares it (declared once, in bot/config.py)."""
    return model.model_fields[name].default


def _describe(groups: dict[str, dict[str, object]]) -> str:
    """`retrieval.dense_k=0`, the way a preset is documented."""
    return ", ".join(f"{group}.{key}={value}" for group, values in groups.items() for key, value in values.items())


class Settings(BaseSettings):
    """Everything configurable. Read from the environment (prefix HELPDESK_) and `.env`."""

    model_config = SettingsConfigDict(
        env_prefix="HELPDESK_", env_file=".env", env_nested_delimiter="__", extra="ignore"
    )

    # library and store
    corpus_dir: Path = Field(
        default=Path("corpus"), description="the library folder `helpdesk ingest` and `make run` index"
    )
    chroma_path: Path = Field(default=Path(".index"), description="embedded Chroma folder (also holds the ingest lock)")
    chroma_host: str | None = Field(default=None, description="use a Chroma server (`chroma run`) at this host instead")
    chroma_port: int = Field(default=8000, ge=1, le=65535, description="the Chroma server's port")
    chroma_timeout: float = Field(
        default=10.0,
        gt=0,
        allow_inf_nan=False,
        description="seconds each request to a Chroma server may take; a server that does not answer in time "
        'gives "not answering" (503 from the API) instead of a hung request',
    )
    collection: str = Field(default="helpdesk", description="collection name (documents in `<name>__docs`)")

    # models
    embed_model: str = Field(
        default="use-multilingual",
        description="`use-multilingual`, `minilm-int8` (English) or `e5-small`; changing it needs "
        "`helpdesk ingest --reset` (said clearly if forgotten)",
    )
    embed_batch_size: int = Field(default=32, ge=1, description="embedding batch size")
    llm_model: str = Field(
        default="gpt-4o-mini", description="model name sent to the endpoint (the local server ignores it)"
    )
    llm_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("HELPDESK_LLM_BASE_URL", "OPENAI_BASE_URL"),
        description="an OpenAI-compatible endpoint; setting it (or a key) enables the LLM back-end",
    )
    llm_api_key: SecretStr | None = Field(  # a secret: never printed, logged or echoed in an error
        default=None,
        validation_alias=AliasChoices("HELPDESK_LLM_API_KEY", "OPENAI_API_KEY"),
        description="its key (any string for local servers)",
    )
    llm_timeout: float = Field(
        default=30.0, gt=0, allow_inf_nan=False, description="seconds before the offline answer is used instead"
    )
    llm: Literal["auto", "offline", "local"] = Field(
        default="auto",
        description="`auto`: the endpoint above if one is set, else the offline answer; `local`: start "
        "llama.cpp's server on 127.0.0.1 with the model `make models` installs (Qwen2.5-Coder-1.5B-Instruct) "
        "and answer with it; `offline`: the extractive answer even when an endpoint is set",
    )
    llm_threads: int = Field(
        default=2,
        ge=1,
        description="the local server's threads (run with `OMP_WAIT_POLICY=PASSIVE`, stable beside other work)",
    )
    llm_context: int = Field(default=4096, ge=512, description="the local server's context window (tokens)")

    # chunking (tokens)
    chunk_size: int = Field(
        default=_default(ChunkingConfig, "chunk_size"),
        ge=16,
        description="chunk size in tokens; the same as `HELPDESK_CHUNKING__CHUNK_SIZE`",
    )
    chunk_overlap: int = Field(
        default=_default(ChunkingConfig, "chunk_overlap"),
        ge=0,
        description="chunk overlap in tokens; the same as `HELPDESK_CHUNKING__CHUNK_OVERLAP`",
    )

    # aliases of limits.*, ask.max_question_chars (and chunking.* above): the defaults are declared there
    max_file_mb: float = Field(
        default=_default(LoaderLimits, "max_file_mb"),
        gt=0,
        allow_inf_nan=False,
        description="ingestion limit: largest file (MiB); the same as `HELPDESK_LIMITS__MAX_FILE_MB`",
    )
    max_pdf_pages: int = Field(
        default=_default(LoaderLimits, "max_pdf_pages"),
        ge=1,
        description="ingestion limit: pages of a PDF; the same as `HELPDESK_LIMITS__MAX_PDF_PAGES`",
    )
    max_question_chars: int = Field(
        default=_default(AskConfig, "max_question_chars"),
        ge=1,
        description="longer questions get a clear message; the same as `HELPDESK_ASK__MAX_QUESTION_CHARS`",
    )

    # serving
    host: str = Field(default="127.0.0.1", description="where the app listens")
    port: int = Field(default=7860, ge=1, le=65535, description="the app's port")
    staff_users: SecretStr | None = Field(
        default=None,
        description="`user:password,…`: the public app at `/` then has the Ask tab only; drafting and the library "
        "move to `/staff` behind a login. Without staff users the Library tab (upload, re-index) is served only "
        "when the app listens on loopback (`HELPDESK_HOST=127.0.0.1`, the default); on any other address the app "
        "has no upload route: set staff users, or use `helpdesk ingest`",
    )
    workers: int = Field(
        default=0,
        ge=0,
        le=64,
        description="processes that answer questions: `0` = one per CPU core; `1` answers in the server process "
        "(embedded store, nothing else started); `N` ≥ 2 runs N answering worker processes that share the index "
        "through a Chroma server (the app starts `chroma run` on loopback over `HELPDESK_CHROMA_PATH` unless "
        "`HELPDESK_CHROMA_HOST` is set); with a language model answers stay in the server process. See "
        "[Serving](#serving-one-port-several-answering-processes)",
    )

    preset: Literal[tuple(PRESETS)] | None = Field(  # type: ignore[valid-type]
        default=None,
        description="a named preset for evaluation runs, an ablation of the defaults below: "
        + ", ".join(f"`{name}` ({_describe(groups)})" for name, groups in PRESETS.items())
        + "; a variable set explicitly wins over the preset",
    )

    # the components' parts (bot/config.py): HELPDESK_<GROUP>__<FIELD>, e.g. HELPDESK_RETRIEVAL__DENSE_K=80
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig, description="hybrid retrieval and ranking")
    answerability: AnswerabilityConfig = Field(
        default_factory=AnswerabilityConfig, description="the refusal step's floor"
    )
    ask: AskConfig = Field(default_factory=AskConfig, description="limits and sizes of one question")
    extractive: ExtractiveConfig = Field(
        default_factory=ExtractiveConfig, description="the offline answer's sentence selection"
    )
    remote_llm: LLMAnswerConfig = Field(
        default_factory=LLMAnswerConfig, description="answers from an OpenAI-compatible endpoint"
    )
    local_llm: LocalLLMConfig = Field(default_factory=LocalLLMConfig, description="answers from the local model")
    drafting: DraftConfig = Field(default_factory=DraftConfig, description="drafted replies (staff)")
    transfer: TransferConfig = Field(default_factory=TransferConfig, description="the transfer finder")
    chunking: ChunkingConfig = Field(default_factory=ChunkingConfig, description="how documents are cut into passages")
    limits: LoaderLimits = Field(default_factory=LoaderLimits, description="ingestion limits")

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        """A preset's values become the groups' defaults: what the environment or the caller set wins."""
        if not isinstance(data, dict) or data.get("preset") not in PRESETS:
            return data  # no preset, or an unknown name the field's own check reports
        data = dict(data)
        for group, values in PRESETS[data["preset"]].items():
            given = data.get(group)
            if given is None:
                data[group] = dict(values)
            elif isinstance(given, dict):
                data[group] = {**values, **given}
        return data

    @model_validator(mode="after")
    def _one_value(self) -> Settings:
        """A flat alias and its nested field hold one value: whichever was set wins; both set must agree."""
        for flat, group, name in FLAT_ALIASES:
            part = getattr(self, group)
            if flat in self.model_fields_set and name in part.model_fields_set:
                if getattr(self, flat) != getattr(part, name):
                    nested = f"HELPDESK_{group.upper()}__{name.upper()}"
                    raise ValueError(f"HELPDESK_{flat.upper()} and {nested} disagree: set one of them")
            elif flat in self.model_fields_set:
                setattr(part, name, getattr(self, flat))
            else:
                object.__setattr__(self, flat, getattr(part, name))  # keeps model_fields_set: "not set here"
        return self

    def staff_credentials(self) -> list[tuple[str, str]]:
        """(user, password) pairs from HELPDESK_STAFF_USERS."""
        pairs = []
        for item in (reveal(self.staff_users) or "").split(","):
            user, sep, password = item.strip().partition(":")
            if sep and user and password:
                pairs.append((user, password))
        return pairs

    @property
    def server_mode(self) -> bool:
        """True when a Chroma server is configured (HELPDESK_CHROMA_HOST set)."""
        return bool(self.chroma_host)

    @property
    def llm_enabled(self) -> bool:
        """True when answers come from a language model: the local server, or a configured endpoint."""
        if self.llm == "offline":
            return False
        return self.llm == "local" or bool(self.llm_base_url or self.llm_api_key)

    def describe_store(self) -> str:
        """Human-readable location of the store."""
        if self.server_mode:
            return f"chroma server http://{self.chroma_host}:{self.chroma_port} / {self.collection}"
        return f"embedded chroma {self.chroma_path} / {self.collection}"


# flat name → (group, field): the older flat variables kept as aliases of a nested field
FLAT_ALIASES = (
    ("chunk_size", "chunking", "chunk_size"),
    ("chunk_overlap", "chunking", "chunk_overlap"),
    ("max_file_mb", "limits", "max_file_mb"),
    ("max_pdf_pages", "limits", "max_pdf_pages"),
    ("max_question_chars", "ask", "max_question_chars"),
)


def reveal(secret: SecretStr | str | None) -> str | None:
    """The plain value of a secret setting, for the one place that must send it (a client, a login check)."""
    return secret.get_secret_value() if isinstance(secret, SecretStr) else secret


SECRET_FIELDS = frozenset(name for name, f in Settings.model_fields.items() if "SecretStr" in str(f.annotation))


def settings_error_line(exc: ValidationError) -> str:
    """One line naming each bad variable, its value and what is expected (no traceback, no docs URL)."""
    parts = []
    for err in exc.errors(include_url=False):
        loc = [str(part) for part in err["loc"]]
        field = loc[0] if loc else ""
        if field in Settings.model_fields:
            name = "HELPDESK_" + "__".join(loc).upper()  # a nested field: HELPDESK_RETRIEVAL__DENSE_K
        elif not loc:  # a check across fields (_one_value) names its variables itself
            parts.append(err["msg"].removeprefix("Value error, "))
            continue
        else:
            name = field
        value = str(err.get("input", ""))[:40].encode("utf-8", "replace").decode("utf-8")
        if field in SECRET_FIELDS:
            value = "…"  # a secret is named, never echoed
        parts.append(f"{name}={value!r} is not valid ({err['msg'][:1].lower()}{err['msg'][1:]})")
    return "invalid setting: " + "; ".join(parts)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment; a bad value raises SettingsInvalid with one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except (ValidationError, SettingsError) as exc:
        raise invalid_settings(exc) from None


def invalid_settings(exc: ValidationError | SettingsError) -> SettingsInvalid:
    """The one-line error for settings that could not be read (what `load_settings` raises)."""
    if isinstance(exc, ValidationError):
        return SettingsInvalid(settings_error_line(exc))
    # a nested group given as a whole (HELPDESK_RETRIEVAL=…) that is not JSON
    field = re.search(r'field "(\w+)"', str(exc))
    name = f"HELPDESK_{field.group(1).upper()}" if field else "a setting"
    return SettingsInvalid(f"invalid setting: {name} is not valid (a group is set field by field: {name}__…)")
