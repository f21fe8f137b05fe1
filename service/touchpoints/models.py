"""Touchpoints: one record from a delivery system, its innovations, and its earlier revisions.

The facts of each kind are kept whole in `facts` (JSONB) and, where an indicator filters or
groups on them, also in typed, indexed columns.

`touchpoint` is partitioned by the UTC month of `occurred_at` (service/touchpoints/partitions.py).
A unique key of a partitioned table must hold the partition key, so the keys that must be unique
across months, a touchpoint's id and its source key, live in `touchpoint_identity`, written with it;
links, revisions and a review's incident reference that row, never a month's partition.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlmodel import Field, SQLModel

from service.model_helpers import jsonb_column, new_id, tenant_fk, timestamp_column, utcnow
from service.vocabulary import DeliverySystem, Shift, TouchpointKind, check_in


class Touchpoint(SQLModel, table=True):
    __tablename__ = "touchpoint"
    __table_args__ = (
        CheckConstraint(check_in("kind", TouchpointKind), name="kind"),
        CheckConstraint(check_in("system", DeliverySystem), name="system"),
        CheckConstraint(check_in("shift", Shift), name="shift"),
        CheckConstraint("(source_system IS NULL) = (external_id IS NULL)", name="source_pair"),
        tenant_fk(["id"], "touchpoint_identity", ondelete="CASCADE"),
        tenant_fk(["service_id"], "service"),
        tenant_fk(["recorded_by_id"], "staff_member"),
        tenant_fk(["subject_staff_id"], "staff_member"),
        tenant_fk(["person_ref_id"], "person_ref"),
        tenant_fk(["incident_id"], "touchpoint_identity"),
        tenant_fk(["buddy_id"], "staff_member"),
        Index("ix_touchpoint_service_occurred", "organisation_id", "service_id", "occurred_at"),
        Index("ix_touchpoint_kind_occurred", "organisation_id", "kind", "occurred_at"),
        Index("ix_touchpoint_occurred_id", "organisation_id", "occurred_at", "id"),
        Index("ix_touchpoint_subject", "organisation_id", "subject_staff_id", "occurred_at"),
        # New starters' first steps (turnover_resilience) without reading their other touchpoints.
        Index(
            "ix_touchpoint_starter_steps",
            "organisation_id",
            "subject_staff_id",
            "occurred_at",
            postgresql_where=text("kind IN ('induction', 'shadowing', 'competency_check')"),
        ),
        Index("ix_touchpoint_recorded_by", "organisation_id", "recorded_by_id", "occurred_at"),
        Index("ix_touchpoint_incident", "organisation_id", "incident_id"),
        Index("ix_touchpoint_recorded_at", "organisation_id", "recorded_at"),
        {"postgresql_partition_by": "RANGE (occurred_at)"},
    )

    organisation_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("organisation.id"), primary_key=True)
    )
    id: uuid.UUID = Field(default_factory=new_id, sa_column=Column(UUID(as_uuid=True), primary_key=True))
    kind: str = Field(sa_column=Column(Text, nullable=False))
    system: str = Field(sa_column=Column(Text, nullable=False))
    service_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), nullable=False))
    # In the primary key because it is the partition key; (organisation_id, id) is unique through
    # touchpoint_identity.
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    shift: str = Field(sa_column=Column(Text, nullable=False))
    weekend: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    recorded_by_id: uuid.UUID | None = Field(default=None, sa_column=Column(UUID(as_uuid=True)))
    subject_staff_id: uuid.UUID | None = Field(default=None, sa_column=Column(UUID(as_uuid=True)))
    person_ref_id: uuid.UUID | None = Field(default=None, sa_column=Column(UUID(as_uuid=True)))
    source_system: str | None = Field(default=None, sa_column=Column(Text))
    external_id: str | None = Field(default=None, sa_column=Column(Text))
    text: str | None = Field(default=None, sa_column=Column(Text))
    facts: dict[str, Any] = Field(sa_column=jsonb_column())
    # Who posted it: the token subject and, for machine clients, the integration client.
    recorded_by_sub: str = Field(sa_column=Column(Text, nullable=False))
    # sha256 of the canonical content; a re-post with the same hash is a duplicate, not a conflict.
    content_hash: str = Field(sa_column=Column(Text, nullable=False))
    revision: int = Field(default=1, sa_column=Column(Integer, nullable=False))

    # Typed copies of the facts the indicators filter and group on.
    engagement_quality: int | None = Field(default=None, sa_column=Column(SmallInteger))
    score: int | None = Field(default=None, sa_column=Column(SmallInteger))
    score_percent: float | None = Field(default=None, sa_column=Column(Numeric(5, 2)))
    explains_why: bool | None = Field(default=None, sa_column=Column(Boolean))
    passed: bool | None = Field(default=None, sa_column=Column(Boolean))
    severity: str | None = Field(default=None, sa_column=Column(Text))
    restrictive_intervention: bool | None = Field(default=None, sa_column=Column(Boolean))
    incident_id: uuid.UUID | None = Field(default=None, sa_column=Column(UUID(as_uuid=True)))
    learning_captured: bool | None = Field(default=None, sa_column=Column(Boolean))
    follow_up_observation_planned: bool | None = Field(default=None, sa_column=Column(Boolean))
    buddy_id: uuid.UUID | None = Field(default=None, sa_column=Column(UUID(as_uuid=True)))


class TouchpointIdentity(SQLModel, table=True):
    """A touchpoint's id and source key, unique across the months `touchpoint` is partitioned by.

    Written in the same statement as the touchpoint; kept when its month's partition is detached, so
    that a source key stays taken and links and revisions keep a row to reference.
    """

    __tablename__ = "touchpoint_identity"
    __table_args__ = (UniqueConstraint("organisation_id", "source_system", "external_id"),)

    organisation_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("organisation.id"), primary_key=True)
    )
    id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), primary_key=True))
    source_system: str | None = Field(default=None, sa_column=Column(Text))
    external_id: str | None = Field(default=None, sa_column=Column(Text))
    # The touchpoint's, so that finding it by id reads one month's partition (touchpoints_of); a
    # trigger on touchpoint moves it with a correction.
    occurred_at: datetime = Field(sa_column=timestamp_column(default_now=False))


class TouchpointInnovation(SQLModel, table=True):
    """Which innovations a touchpoint references."""

    __tablename__ = "touchpoint_innovation"
    __table_args__ = (
        tenant_fk(["touchpoint_id"], "touchpoint_identity", ondelete="CASCADE"),
        tenant_fk(["innovation_id"], "innovation"),
        Index("ix_touchpoint_innovation_innovation", "organisation_id", "innovation_id"),
    )

    organisation_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), primary_key=True))
    touchpoint_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), primary_key=True))
    innovation_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), primary_key=True))


class TouchpointRevision(SQLModel, table=True):
    """A touchpoint as it stood before a correction: who replaced it, and when."""

    __tablename__ = "touchpoint_revision"
    __table_args__ = (tenant_fk(["touchpoint_id"], "touchpoint_identity", ondelete="CASCADE"),)

    organisation_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), primary_key=True))
    touchpoint_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), primary_key=True))
    revision: int = Field(sa_column=Column(Integer, primary_key=True))
    # The whole record as posted (kind, occurred_at, facts, innovation_ids, …).
    content: dict[str, Any] = Field(sa_column=jsonb_column())
    recorded_at: datetime = Field(sa_column=timestamp_column(default_now=False))
    recorded_by_sub: str = Field(sa_column=Column(Text, nullable=False))
    replaced_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    replaced_by_sub: str = Field(sa_column=Column(Text, nullable=False))


class IdempotencyRecord(SQLModel, table=True):
    """The first response to a request sent with an `Idempotency-Key`, kept to answer its repeats.

    Keys are scoped to the caller (organisation and token subject) and kept for 24 hours.
    """

    __tablename__ = "idempotency_record"
    __table_args__ = (Index("ix_idempotency_record_expires", "organisation_id", "expires_at"),)

    organisation_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("organisation.id"), primary_key=True)
    )
    principal_sub: str = Field(sa_column=Column(Text, primary_key=True))
    key: str = Field(sa_column=Column(Text, primary_key=True))
    # sha256 of method, path and body: the same key with another request is refused.
    request_fingerprint: str = Field(sa_column=Column(Text, nullable=False))
    response_status: int = Field(sa_column=Column(SmallInteger, nullable=False))
    response_body: str = Field(sa_column=Column(Text, nullable=False))
    response_location: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    expires_at: datetime = Field(sa_column=timestamp_column(default_now=False))
