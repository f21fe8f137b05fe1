"""A pseudonymous reference to a person supported: an external id only, no clinical data."""

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import UUID
from sqlmodel import Field, SQLModel

from service.model_helpers import new_id, timestamp_column, utcnow


class PersonRef(SQLModel, table=True):
    __tablename__ = "person_ref"
    __table_args__ = (UniqueConstraint("organisation_id", "source_system", "external_ref"),)

    organisation_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("organisation.id"), primary_key=True)
    )
    id: uuid.UUID = Field(default_factory=new_id, sa_column=Column(UUID(as_uuid=True), primary_key=True))
    external_ref: str = Field(sa_column=Column(Text, nullable=False))
    source_system: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
