"""A service: one location or branch of a provider."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import UUID
from sqlmodel import Field, SQLModel

from service.model_helpers import jsonb_column, new_id, timestamp_column, utcnow

DEFAULT_SHIFT_PATTERN = {"early": "07:00", "late": "14:00", "night": "21:30"}


class Service(SQLModel, table=True):
    __tablename__ = "service"
    __table_args__ = (
        UniqueConstraint("organisation_id", "source_system", "external_ref"),
        # A reference entered without a source system is still unique within the provider.
        Index(
            "uq_service_local_external_ref",
            "organisation_id",
            "external_ref",
            unique=True,
            postgresql_where=text("source_system IS NULL"),
        ),
        Index("ix_service_organisation_name", "organisation_id", "name"),
    )

    organisation_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("organisation.id"), primary_key=True)
    )
    id: uuid.UUID = Field(default_factory=new_id, sa_column=Column(UUID(as_uuid=True), primary_key=True))
    name: str = Field(sa_column=Column(Text, nullable=False))
    timezone: str = Field(default="Europe/London", sa_column=Column(Text, nullable=False))
    cqc_location_id: str | None = Field(default=None, sa_column=Column(Text))
    # Start times (HH:MM, local) of the early, late and night shifts.
    shift_pattern: dict[str, Any] = Field(sa_column=jsonb_column())
    source_system: str | None = Field(default=None, sa_column=Column(Text))
    external_ref: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
