"""The one Settings object: HELPDESK_* environment variables, an optional .env, and OPENAI_* conventions."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import SettingsInvalid

EMBED_MODELS = ("use-multilingual", "minilm-int8", "e5-small")


class Settings(BaseSettings):
    """Everything configurable. Read from the environment (prefix HELPDESK_) and `.env`."""

    model_config = SettingsConfigDict(env_prefix="HELPDESK_", env_file=".env", extra="ignore")

    # library and store
    corpus_dir: Path = Path("corpus")
    chroma_path: Path = Path(".index")
    chroma_host: str | None = None
    chroma_port: int = Field(default=8000, ge=1, le=65535)
    chroma_timeout: float = Field(default=10.0, gt=0, allow_inf_nan=False)  # seconds per Chroma server request
    collection: str = "helpdesk"

    # models
    embed_model: str = "use-multilingual"
    embed_batch_size: int = Field(default=32, ge=1)
    llm_model: str = "gpt-4o-mini"  # name sent to a remote endpoint (the local server ignores it)
    llm_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("HELPDESK_LLM_BASE_URL", "OPENAI_BASE_URL")
    )
    llm_api_key: SecretStr | None = Field(  # a secret: never printed, logged or echoed in an error
        default=None, validation_alias=AliasChoices("HELPDESK_LLM_API_KEY", "OPENAI_API_KEY")
    )
    llm_timeout: float = Field(default=30.0, gt=0, allow_inf_nan=False)
    # auto: the endpoint above if one is set, else offline; local: start llama.cpp's server on loopback with
    # the model `make models` installed; offline: the extractive answer even when an endpoint is set
    llm: Literal["auto", "offline", "local"] = "auto"
    llm_threads: int = Field(default=2, ge=1)  # local server threads (OMP_WAIT_POLICY=PASSIVE keeps 2 stable)
    llm_context: int = Field(default=4096, ge=512)  # local server context window (tokens)

    # chunking (tokens)
    chunk_size: int = Field(default=384, ge=16)
    chunk_overlap: int = Field(default=48, ge=0)

    # limits
    max_file_mb: float = Field(default=50.0, gt=0, allow_inf_nan=False)
    max_pdf_pages: int = Field(default=2000, ge=1)
    max_question_chars: int = Field(default=4000, ge=1)

    # serving
    host: str = "127.0.0.1"
    port: int = Field(default=7860, ge=1, le=65535)
    staff_users: SecretStr | None = None  # "alice:secret,bob:pw" → drafting and the library need a login at /staff
    workers: int = Field(
        default=1,
        ge=0,
        le=64,
        description="processes that answer questions: 1 answers in the server process (embedded store); N ≥ 2 "
        "runs N worker processes that share the index through a Chroma server (the app starts one on loopback "
        "unless HELPDESK_CHROMA_HOST is set); 0 means one per CPU core. With a language model, answers stay in "
        "the server process.",
    )

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


def reveal(secret: SecretStr | str | None) -> str | None:
    """The plain value of a secret setting, for the one place that must send it (a client, a login check)."""
    return secret.get_secret_value() if isinstance(secret, SecretStr) else secret


SECRET_FIELDS = frozenset(name for name, f in Settings.model_fields.items() if "SecretStr" in str(f.annotation))


def settings_error_line(exc: ValidationError) -> str:
    """One line naming each bad variable, its value and what is expected (no traceback, no docs URL)."""
    parts = []
    for err in exc.errors(include_url=False):
        field = str(err["loc"][0]) if err["loc"] else ""
        name = f"HELPDESK_{field.upper()}" if field in Settings.model_fields else field or "a setting"
        value = str(err.get("input", ""))[:40].encode("utf-8", "replace").decode("utf-8")
        if field in SECRET_FIELDS:
            value = "…"  # a secret is named, never echoed
        parts.append(f"{name}={value!r} is not valid ({err['msg'][:1].lower()}{err['msg'][1:]})")
    return "invalid setting: " + "; ".join(parts)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment; a bad value raises SettingsInvalid with one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsInvalid(settings_error_line(exc)) from None
