"""One typed settings object, read from `INGRAIN_*` environment variables."""

import uuid
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.vocabulary import Role

# The development secret is public by construction; it is refused outside development.
DEVELOPMENT_JWT_SECRET = "ingrain-development-secret-change-me-0123456789abcdef"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class IssuerTrust(BaseModel):
    """What one external issuer may assert: a `sub` is unique only within its issuer (OpenID Connect
    Core §2), so an identity provider speaks for the organisations bound to it, with the roles
    granted to it, and for nobody else."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    organisations: frozenset[uuid.UUID] = Field(description="Organisation ids its tokens may name in `org`.")
    roles: frozenset[Role] = Field(min_length=1, description="Roles its tokens may claim.")


# uvicorn's level names (`trace` is its own, below DEBUG) and the two ways a log line is written.
LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]
LogFormat = Literal["text", "json"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INGRAIN_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        default="development", description="`production` refuses development secrets."
    )
    database_url: str | None = Field(
        default=None,
        description="Postgres URL (postgresql://…). Unset: an embedded Postgres in INGRAIN_DATA_DIR.",
    )
    database_read_url: str | None = Field(
        default=None,
        description="A read replica's URL (postgresql://…), for status and list reads; it may lag the "
        "primary. Unset: every read goes to INGRAIN_DATABASE_URL.",
    )
    data_dir: Path = Field(
        default=PROJECT_ROOT / ".data", description="Where the embedded Postgres keeps its files."
    )
    host: str = Field(default="127.0.0.1", description="Address `ingrain serve` listens on.")
    port: int = Field(default=8000, description="Port `ingrain serve` listens on.")
    web_concurrency: int = Field(
        default=1, ge=1, description="API processes `ingrain serve` runs (its `--workers`)."
    )
    migrate_on_start: bool | None = Field(
        default=None,
        description="Apply migrations at start-up (one process at a time). Default: on for the embedded "
        "database.",
    )
    demo_data: bool | None = Field(
        default=None,
        description="Load the demo provider on first start. Default: on for the embedded database.",
    )
    jobs_in_process: bool | None = Field(
        default=None,
        description="Run the job workers inside `ingrain serve` (statuses kept current, events written). "
        "Default: on for the embedded database; elsewhere run `ingrain worker`.",
    )
    jwt_secret: str = Field(
        default=DEVELOPMENT_JWT_SECRET,
        description="Shared HS256 secret for tokens issued by `ingrain token` and tests (≥ 32 bytes).",
    )
    jwt_issuer: str = Field(default="ingrain", description="Expected `iss` of HS256 and service tokens.")
    jwt_audience: str = Field(default="ingrain-api", description="Expected `aud` of every token.")
    jwks_urls: list[str] = Field(
        default_factory=list,
        description="JSON list of JWKS URLs of external identity providers (RS256/ES256).",
    )
    jwks_issuers: list[str] = Field(
        default_factory=list,
        description="JSON list of issuers accepted for JWKS-signed tokens, one per JWKS URL.",
    )
    jwks_trust: dict[str, IssuerTrust] = Field(
        default_factory=dict,
        description="JSON object binding each of INGRAIN_JWKS_ISSUERS to the `organisations` (ids) it may "
        "speak for and the `roles` it may grant (`platform_admin` only when listed).",
    )
    token_max_lifetime_seconds: int = Field(
        default=86400, ge=60, description="Longest token lifetime accepted (`exp` − `iat`), any issuer."
    )
    jwt_leeway_seconds: int = Field(
        default=30, ge=0, le=120, description="Clock skew allowed on exp/nbf/iat (at most 120 s)."
    )
    signing_key_path: Path | None = Field(
        default=None,
        description="PEM private key (EC P-256) for service-issued tokens. Unset: generated in the data dir.",
    )
    service_token_ttl_seconds: int = Field(
        default=900,
        ge=60,
        le=3600,
        description="Lifetime of tokens from POST /v1/auth/token (at most the maximum token lifetime).",
    )
    client_auth_failures_per_client: int = Field(
        default=10, ge=1, description="Failed POST /v1/auth/token attempts allowed per client id per window."
    )
    client_auth_failures_per_address: int = Field(
        default=50, ge=1, description="Failed POST /v1/auth/token attempts allowed per address per window."
    )
    client_auth_failure_window_seconds: int = Field(
        default=300, ge=1, description="The sliding window those failure limits count over."
    )
    graphql_introspection: bool = Field(default=True, description="Allow GraphQL introspection.")
    webhooks_allow_loopback: bool = Field(
        default=False,
        description="Let webhook endpoints on loopback (plain http too) through the address check: for "
        "development and tests only. Refused in production.",
    )
    db_pool_size: int = Field(default=10, description="Connections kept in the pool.")
    db_connect_timeout_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How long opening a database connection may take before the request answers 503.",
    )
    db_pool_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How long a request waits for a free pooled connection before it answers 503.",
    )
    unavailable_retry_after_seconds: int = Field(
        default=1, ge=1, description="`Retry-After` of the 503 answered while the database is unavailable."
    )
    log_level: LogLevel = Field(default="info", description="Level of Ingrain's and uvicorn's logs.")
    log_format: LogFormat = Field(
        default="text",
        description="`json`: one JSON object a line (for a log collector); `text`: lines for a terminal.",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Serve /metrics on this port of INGRAIN_HOST (from `ingrain serve` and `ingrain worker`) "
        "instead of the API's port. Unset: GET /metrics on the API's port, without a token.",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description='JSON list of browser origins allowed to call the API (`["https://app.example"]`). '
        "Empty: no CORS headers.",
    )

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> "Settings":
        if self.environment == "production" and self.jwt_secret == DEVELOPMENT_JWT_SECRET:
            raise ValueError("INGRAIN_JWT_SECRET must be set to a secret of your own in production")
        if len(self.jwt_secret.encode()) < 32:
            raise ValueError("INGRAIN_JWT_SECRET must be at least 32 bytes long")
        if self.environment == "production" and self.webhooks_allow_loopback:
            raise ValueError("INGRAIN_WEBHOOKS_ALLOW_LOOPBACK is for development and tests, not production")
        if "service_token_ttl_seconds" not in self.model_fields_set:
            # The default follows a shorter maximum; a lifetime set on purpose is checked below.
            self.service_token_ttl_seconds = min(
                self.service_token_ttl_seconds, self.token_max_lifetime_seconds
            )
        if self.service_token_ttl_seconds > self.token_max_lifetime_seconds:
            raise ValueError(
                "INGRAIN_SERVICE_TOKEN_TTL_SECONDS must not exceed INGRAIN_TOKEN_MAX_LIFETIME_SECONDS, "
                "or Ingrain would refuse the tokens it issues"
            )
        self._check_identity_providers()
        self._check_cors_origins()
        return self

    def _check_cors_origins(self) -> None:
        """A browser sends `Origin` as scheme://host[:port], so anything else would never match."""
        for origin in self.cors_origins:
            parts = urlsplit(origin)
            if origin != "*" and (
                parts.scheme not in ("http", "https")
                or not parts.netloc
                or origin != f"{parts.scheme}://{parts.netloc}"
            ):
                raise ValueError(
                    f"INGRAIN_CORS_ORIGINS entry {origin!r} is not an origin such as https://app.example "
                    "(scheme and host, an optional port, no path or trailing slash), nor *"
                )

    def _check_identity_providers(self) -> None:
        """Each JWKS URL is paired with exactly one issuer, and no issuer is trusted twice."""
        if len(self.jwks_urls) != len(self.jwks_issuers):
            raise ValueError("INGRAIN_JWKS_URLS and INGRAIN_JWKS_ISSUERS must have as many entries each")
        if len(set(self.jwks_issuers)) != len(self.jwks_issuers) or self.jwt_issuer in self.jwks_issuers:
            raise ValueError("INGRAIN_JWKS_ISSUERS must be distinct and differ from INGRAIN_JWT_ISSUER")
        for url in self.jwks_urls:
            parts = urlsplit(url)
            local = parts.hostname in ("127.0.0.1", "localhost", "::1")
            if parts.scheme != "https" and not (parts.scheme == "http" and local):
                raise ValueError(f"JWKS URL {url!r} must use https (plain http only on localhost)")
        self._check_issuer_trust()

    def _check_issuer_trust(self) -> None:
        """Every external issuer is bound explicitly; a binding without its issuer is a typo, not a no-op."""
        for issuer in self.jwks_issuers:
            if issuer not in self.jwks_trust:
                raise ValueError(
                    f"INGRAIN_JWKS_TRUST has no entry for issuer {issuer!r}: name the `organisations` "
                    "it may speak for and the `roles` it may grant"
                )
        for issuer, trust in self.jwks_trust.items():
            if issuer not in self.jwks_issuers:
                raise ValueError(f"INGRAIN_JWKS_TRUST names {issuer!r}, which is not in INGRAIN_JWKS_ISSUERS")
            # Every role but platform_admin needs an `org`, so without organisations it is useless.
            if not trust.organisations and trust.roles != {Role.platform_admin}:
                raise ValueError(
                    f"INGRAIN_JWKS_TRUST[{issuer!r}] grants organisation roles but no `organisations`"
                )

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def migrate_at_start(self) -> bool:
        return self.embedded if self.migrate_on_start is None else self.migrate_on_start

    @property
    def run_jobs_in_process(self) -> bool:
        return self.embedded if self.jobs_in_process is None else self.jobs_in_process

    @property
    def load_demo_data(self) -> bool:
        return self.embedded if self.demo_data is None else self.demo_data


@lru_cache
def get_settings() -> Settings:
    return Settings()
