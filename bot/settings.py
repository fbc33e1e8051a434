"""The one Settings object: HELPDESK_* environment variables, an optional .env, and OPENAI_* conventions."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBED_MODELS = ("use-multilingual", "minilm-int8", "e5-small")


class Settings(BaseSettings):
    """Everything configurable. Read from the environment (prefix HELPDESK_) and `.env`."""

    model_config = SettingsConfigDict(env_prefix="HELPDESK_", env_file=".env", extra="ignore")

    # library and store
    corpus_dir: Path = Path("corpus")
    chroma_path: Path = Path(".index")
    chroma_host: str | None = None
    chroma_port: int = 8000
    collection: str = "helpdesk"

    # models
    embed_model: str = "use-multilingual"
    embed_batch_size: int = 32
    llm_model: str | None = None
    llm_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("HELPDESK_LLM_BASE_URL", "OPENAI_BASE_URL")
    )
    llm_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("HELPDESK_LLM_API_KEY", "OPENAI_API_KEY")
    )
    llm_timeout: float = 30.0

    # chunking (tokens)
    chunk_size: int = 384
    chunk_overlap: int = 48

    # limits
    max_file_mb: float = 50.0
    max_pdf_pages: int = 2000
    max_question_chars: int = 4000

    # serving
    host: str = "127.0.0.1"
    port: int = 7860
    staff_users: str | None = None  # "alice:secret,bob:pw" → drafting and the library need a login at /staff

    def staff_credentials(self) -> list[tuple[str, str]]:
        """(user, password) pairs from HELPDESK_STAFF_USERS."""
        pairs = []
        for item in (self.staff_users or "").split(","):
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
        """True when an OpenAI-compatible endpoint is configured."""
        return bool(self.llm_base_url or self.llm_api_key)

    def describe_store(self) -> str:
        """Human-readable location of the store."""
        if self.server_mode:
            return f"chroma server http://{self.chroma_host}:{self.chroma_port} / {self.collection}"
        return f"embedded chroma {self.chroma_path} / {self.collection}"
