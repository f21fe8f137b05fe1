"""Webhook endpoints, one delivery per event and endpoint, and every attempt to send one."""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlmodel import Field, SQLModel

from service.model_helpers import new_id, timestamp_column, utcnow
from service.vocabulary import check_in
from service.webhooks.vocabulary import DeliveryStatus


class WebhookEndpoint(SQLModel, table=True):
    """Where an organisation wants status events pushed, and how far its deliveries have got.

    `event_cursor` is the id of the last event of the outbox (`status_event`) this endpoint has
    taken a delivery from or passed over. The secret signs deliveries, so it is kept (unlike a
    client secret, which only has to be checked); during a rotation's overlap the previous one
    signs too, until `previous_secret_expires_at`.
    """

    __tablename__ = "webhook_endpoint"
    __table_args__ = (
        Index("ix_webhook_endpoint_organisation_created", "organisation_id", "created_at", "id"),
        UniqueConstraint("id"),
    )

    organisation_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("organisation.id"), primary_key=True)
    )
    id: uuid.UUID = Field(default_factory=new_id, sa_column=Column(UUID(as_uuid=True), primary_key=True))
    url: str = Field(sa_column=Column(Text, nullable=False))
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    event_types: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    enabled: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true"))
    )
    disabled_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=True, default_now=False)
    )
    disabled_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    secret: str = Field(sa_column=Column(Text, nullable=False))
    previous_secret: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    previous_secret_expires_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=True, default_now=False)
    )
    secret_rotated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    event_cursor: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_by: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint: sent until it is answered 2xx or its retries run out.

    Its `id` is the Standard Webhooks message id (`webhook-id`), the same on every attempt, so a
    receiver can drop a repeat it has already handled.
    """

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        ForeignKeyConstraint(
            ["organisation_id", "endpoint_id"],
            ["webhook_endpoint.organisation_id", "webhook_endpoint.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("endpoint_id", "event_id"),
        CheckConstraint(check_in("status", DeliveryStatus), name="status"),
        # The endpoint's oldest delivery still to be sent: the head of its queue.
        Index(
            "ix_webhook_delivery_pending",
            "endpoint_id",
            "event_id",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    organisation_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), primary_key=True))
    id: uuid.UUID = Field(default_factory=new_id, sa_column=Column(UUID(as_uuid=True), primary_key=True))
    endpoint_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), nullable=False))
    event_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("status_event.id", ondelete="CASCADE"), nullable=False)
    )
    event_type: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(
        default=DeliveryStatus.pending, sa_column=Column(Text, nullable=False, server_default="pending")
    )
    # Attempts since it was (re)queued: what the retry schedule counts.
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    delivered_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=True, default_now=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class WebhookAttempt(SQLModel, table=True):
    """One POST of a delivery: what came back (or why nothing did) and how long it took."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (
        ForeignKeyConstraint(
            ["organisation_id", "delivery_id"],
            ["webhook_delivery.organisation_id", "webhook_delivery.id"],
            ondelete="CASCADE",
        ),
        Index("ix_webhook_attempt_delivery", "delivery_id", "attempted_at"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=False), primary_key=True)
    )
    organisation_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), nullable=False))
    delivery_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), nullable=False))
    attempted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    # None when no answer came: refused, timed out, or the target failed its address check.
    status_code: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    latency_ms: int = Field(sa_column=Column(Integer, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    response_excerpt: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
