"""A pseudonymous reference to a person supported: an external id only, no clinical data."""

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import UUID
from sqlmodel import Field, SQLModel

from service.model_helpers import new_id, tenant_fk, timestamp_column, utcnow


class PersonRef(SQLModel, table=True):
    __tablename__ = "person_ref"
    __table_args__ = (
        UniqueConstraint("organisation_id", "source_system", "external_ref"),
        # A reference entered without a source system is still unique within the provider.
        Index(
            "uq_person_ref_local_external_ref",
            "organisation_id",
            "external_ref",
            unique=True,
            postgresql_where=text("source_system IS NULL"),
        ),
    )

    organisation_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("organisation.id"), primary_key=True)
    )
    id: uuid.UUID = Field(default_factory=new_id, sa_column=Column(UUID(as_uuid=True), primary_key=True))
    external_ref: str = Field(sa_column=Column(Text, nullable=False))
    source_system: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class PersonRefService(SQLModel, table=True):
    """Where a person is supported. Callers limited to some services see only their people."""

    __tablename__ = "person_ref_service"
    __table_args__ = (
        tenant_fk(["person_ref_id"], "person_ref", ondelete="CASCADE"),
        tenant_fk(["service_id"], "service"),
        Index("ix_person_ref_service_service", "organisation_id", "service_id"),
    )

    organisation_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), primary_key=True))
    person_ref_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), primary_key=True))
    service_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), primary_key=True))
