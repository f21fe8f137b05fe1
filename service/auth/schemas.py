"""API shapes of integration clients and of the OAuth 2.0 token endpoint."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.input_model import ApiInput

SourceSystem = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"),
    Field(
        description="The care record system this client writes as, e.g. `acme-care`; stamped on its "
        "touchpoints as `source_system`.",
        examples=["acme-care"],
    ),
]


class IntegrationClientCreate(ApiInput):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        description="A label for people, e.g. `Acme Care (production)`."
    )
    source_system: SourceSystem


class IntegrationClientPublic(BaseModel):
    id: uuid.UUID
    client_id: str = Field(description="The public half of the credentials, sent to POST /v1/auth/token.")
    name: str
    source_system: str
    created_by: str
    created_at: datetime
    secret_rotated_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    active: bool


class IntegrationClientCredentials(IntegrationClientPublic):
    client_secret: str = Field(
        description="Shown this once: only a slow hash is kept. Rotate the secret if it is lost."
    )


class TokenResponse(BaseModel):
    """RFC 6749 §5.1."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconds until the token expires.")


class OAuthErrorResponse(BaseModel):
    """RFC 6749 §5.2 (the token endpoint answers errors in this shape, not as problem+json)."""

    error: Literal[
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "temporarily_unavailable",
    ]
    error_description: str | None = None
