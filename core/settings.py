"""The one settings class, read from HOMEWARD_* environment variables."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Values copied from examples and tutorials; a deployment that uses one is misconfigured.
PLACEHOLDER_SECRETS = frozenset(
    {"", "changethis", "change-me", "changeme", "secret", "password", "please-change", "dev"}
)
JWT_SECRET_FILE = "jwt-secret"  # noqa: S105  (a file name, not a secret)
ENCRYPTION_KEY_FILE = "encryption-keys"


class Settings(BaseSettings):
    """Homeward configuration; every field maps to HOMEWARD_<FIELD>."""

    # hide_input_in_errors: a refused secret must not be printed in the error.
    model_config = SettingsConfigDict(
        env_prefix="HOMEWARD_", extra="ignore", hide_input_in_errors=True
    )

    data_dir: Path = Path(".homeward")
    database_url: str | None = None
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    prefect_port: int = Field(default=4200, ge=1, le=65535)
    public_url: str | None = None
    follow_up_days: Annotated[tuple[int, ...], NoDecode] = (30, 90, 180, 365)
    sweep_seconds: int = Field(default=60, ge=1)
    # Flow runs one runner executes at once; each is a process of ~70 MB while it runs.
    runner_limit: int = Field(default=8, ge=1)
    # A flow run RUNNING this long has lost its process and is replaced when its case wakes.
    stuck_run_seconds: int = Field(default=300, ge=10)
    # Personal data of cases closed or rejected longer than this is purged by `homeward purge`.
    retention_days: int = Field(default=365, ge=0)
    jwt_secret: SecretStr | None = None
    token_minutes: int = Field(default=8 * 60, ge=1)
    # The pages' sign-in: it ends after this many minutes without a page request, and in
    # any case this many hours after signing in.
    web_idle_minutes: int = Field(default=30, ge=1)
    web_session_hours: int = Field(default=12, ge=1)
    # Keys encrypting personal data at rest: comma-separated `id:base64key` entries, the
    # first encrypts, all decrypt. Unset: a ring generated into <data_dir>/encryption-keys.
    # Parsed by core.crypto, whose errors never quote a key (pydantic's would).
    encryption_keys: SecretStr | None = None
    # How long a claimed outbox row stays claimed before another sender may retry it.
    notification_claim_seconds: int = Field(default=120, ge=5)
    # Sends to an agency before its notification is marked `failed` (an administrator or the
    # case's coordinator may put it back in the queue).
    notification_max_attempts: int = Field(default=8, ge=1)
    # Connect and read timeout of one target's send; the whole send to a target never takes
    # more than twice this, whatever the target does (notifications.dispatcher.deadline_for).
    notification_timeout_seconds: float = Field(default=5, gt=0, le=300)
    # Retry delays: base·2^(attempts-1), capped, each drawn between half and all of it.
    notification_retry_base_seconds: float = Field(default=30, gt=0)
    notification_retry_max_seconds: float = Field(default=3600, gt=0)
    # Deadlines, documents and escalation per country pair (domain.corridors); unset: the
    # file shipped with Homeward, deploy/corridors.yaml.
    corridors_file: Path | None = None
    # How long an Idempotency-Key is remembered with its first answer (which may hold
    # survivor data, encrypted); a key older than this starts a new request.
    idempotency_key_hours: int = Field(default=24, ge=1)
    # Largest request body the API reads; larger ones are refused with 413 before parsing.
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)

    @field_validator("follow_up_days", mode="before")
    @classmethod
    def _parse_days(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            if not parts:
                raise ValueError("give at least one follow-up offset in days, e.g. 30,90")
            try:
                return tuple(int(p) for p in parts)
            except ValueError:
                raise ValueError(
                    f"follow-up offsets must be whole days separated by commas, got {value!r}"
                ) from None
        return value

    @field_validator("follow_up_days")
    @classmethod
    def _days_not_negative(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(d < 0 for d in value):
            raise ValueError("follow-up offsets cannot be negative")
        return tuple(sorted(value))

    @field_validator("jwt_secret")
    @classmethod
    def _refuse_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            raw = value.get_secret_value()
            if raw.lower() in PLACEHOLDER_SECRETS or len(raw) < 32:
                raise ValueError(
                    "HOMEWARD_JWT_SECRET is a placeholder or shorter than 32 characters; "
                    "unset it to have one generated, or set a long random value"
                )
        return value

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'homeward.db').resolve()}"

    @property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")

    @property
    def local_prefect_api_url(self) -> str:
        return f"http://127.0.0.1:{self.prefect_port}/api"

    def signing_key(self) -> str:
        """The JWT signing secret: configured, or generated once into the data directory."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        path = self.data_dir / JWT_SECRET_FILE
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            # O_EXCL: two processes starting together must not each write their own key.
            try:
                with path.open("x", encoding="utf-8") as handle:
                    handle.write(secrets.token_urlsafe(48))
                path.chmod(0o600)
            except FileExistsError:
                pass
        return path.read_text(encoding="utf-8").strip()


def get_settings() -> Settings:
    return Settings()
