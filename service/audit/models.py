"""The access log: append-only, one row per write and per read of free text or staff identity."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, Identity, Index, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlmodel import Field, SQLModel

from service.model_helpers import timestamp_column, utcnow, uuid_array_column


class AccessLogEntry(SQLModel, table=True):
    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_organisation_at", "organisation_id", "at", "id"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True)
    )
    # The organisation whose data was touched (for platform actions: the caller's, or none).
    organisation_id: uuid.UUID | None = Field(default=None, sa_column=Column(UUID(as_uuid=True)))
    at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    sub: str = Field(sa_column=Column(Text, nullable=False))
    actor_organisation_id: uuid.UUID | None = Field(default=None, sa_column=Column(UUID(as_uuid=True)))
    roles: str = Field(sa_column=Column(Text, nullable=False))
    client_id: str | None = Field(default=None, sa_column=Column(Text))
    # e.g. "touchpoint.create", "touchpoint.read_text", "staff.list"
    action: str = Field(sa_column=Column(Text, nullable=False))
    resource_type: str = Field(sa_column=Column(Text, nullable=False))
    record_ids: list[uuid.UUID] | None = Field(default=None, sa_column=uuid_array_column())
    record_count: int = Field(default=0)
    method: str | None = Field(default=None, sa_column=Column(Text))
    path: str | None = Field(default=None, sa_column=Column(Text))
    ip: str | None = Field(default=None, sa_column=Column(Text))
    request_id: str | None = Field(default=None, sa_column=Column(Text))
