"""Organisations and the two relationships that let one organisation read another's status."""

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlmodel import Field, SQLModel

from service.model_helpers import new_id, timestamp_column, utcnow, uuid_array_column
from service.vocabulary import OrganisationKind, check_in


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"
    __table_args__ = (CheckConstraint(check_in("kind", OrganisationKind), name="kind"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(sa_column=Column(Text, nullable=False))
    kind: str = Field(sa_column=Column(Text, nullable=False, index=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class CommissioningRelationship(SQLModel, table=True):
    """A commissioner reads a provider's status (all services, or `service_ids`) between two dates."""

    __tablename__ = "commissioning_relationship"
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates_ordered"),
        Index("ix_commissioning_relationship_provider", "provider_id", "commissioner_id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    commissioner_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("organisation.id"), nullable=False, index=True)
    )
    provider_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("organisation.id"), nullable=False)
    )
    service_ids: list[uuid.UUID] | None = Field(default=None, sa_column=uuid_array_column())
    starts_on: date
    ends_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class AccessGrant(SQLModel, table=True):
    """A provider lets a regulator read its status and evidence summaries for a limited time."""

    __tablename__ = "access_grant"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
        Index("ix_access_grant_regulator", "regulator_id", "organisation_id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organisation_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("organisation.id"), nullable=False, index=True)
    )
    regulator_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("organisation.id"), nullable=False)
    )
    starts_on: date
    ends_on: date
    created_by: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    revoked_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=True, default_now=False)
    )
