"""API shapes of webhook endpoints, their deliveries and the attempts to send them."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, field_validator

from service.reference.types import InputModel, PatchModel
from service.webhooks.targets import MAX_URL_CHARS
from service.webhooks.vocabulary import DeliveryStatus, EventType

Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL_CHARS),
    Field(
        description="Where deliveries are POSTed: `https://` on a public address (checked on every send).",
        examples=["https://portal.example.org/hooks/ingrain"],
    ),
]
EventTypes = Annotated[
    list[EventType],
    Field(min_length=1, max_length=10, description="The event types to receive (each once is enough)."),
]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500), Field(description="A label for people.")
]
# Rotation overlap: how long the previous secret keeps signing beside the new one.
MAX_OVERLAP_SECONDS = 3 * 24 * 3600
DEFAULT_OVERLAP_SECONDS = 24 * 3600


def _distinct(types: list[EventType]) -> list[EventType]:
    return sorted(set(types))


class WebhookEndpointCreate(InputModel):
    url: Url
    event_types: EventTypes
    description: Description = ""

    _distinct_types = field_validator("event_types")(_distinct)


class WebhookEndpointUpdate(PatchModel):
    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    enabled: bool | None = Field(
        default=None,
        description="`true` re-enables a disabled endpoint: what waited is sent, oldest first, and a "
        "failed delivery can be redelivered. `false` pauses deliveries; events wait in the outbox.",
    )

    _distinct_types = field_validator("event_types")(_distinct)


class SecretRotation(InputModel):
    overlap_seconds: int = Field(
        default=DEFAULT_OVERLAP_SECONDS,
        ge=0,
        le=MAX_OVERLAP_SECONDS,
        description="How long the previous secret keeps signing beside the new one (0: stop at once).",
    )


class WebhookEndpointPublic(BaseModel):
    id: uuid.UUID
    url: str
    description: str
    event_types: list[EventType]
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str | None = Field(description="Why deliveries stopped, when they did.")
    secret_rotated_at: datetime
    previous_secret_expires_at: datetime | None = Field(
        description="Until then the previous secret signs too; null when only one secret is in force."
    )
    created_by: str
    created_at: datetime
    updated_at: datetime


class WebhookEndpointWithSecret(WebhookEndpointPublic):
    secret: str = Field(
        description="`whsec_…`, shown this once: it verifies the `webhook-signature` of every delivery."
    )


class WebhookAttemptPublic(BaseModel):
    attempted_at: datetime
    status_code: int | None = Field(description="The answer's HTTP status; null when none came.")
    latency_ms: int
    error: str | None = Field(description="Why no 2xx came: refused, timed out, a redirect, …")
    response_excerpt: str | None = Field(description="The start of the answer's body (at most 1 KB).")


class WebhookDeliveryPublic(BaseModel):
    id: uuid.UUID = Field(description="The message id: `webhook-id` is `msg_` and this id without dashes.")
    event_id: str = Field(description="The event's id in `GET /v1/events`.")
    event_type: EventType
    status: DeliveryStatus
    attempt_count: int = Field(description="Attempts since it was queued (or redelivered).")
    next_attempt_at: datetime | None = Field(description="When it is tried next, while pending.")
    delivered_at: datetime | None
    created_at: datetime
    attempts: list[WebhookAttemptPublic] = Field(description="Every attempt, newest first (the last 50).")
