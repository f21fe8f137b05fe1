"""Staff members and the services they work in. Turnover is computed from started_on / left_on."""

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Index, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import UUID
from sqlmodel import Field, SQLModel

from service.model_helpers import new_id, tenant_fk, timestamp_column, utcnow


class StaffMember(SQLModel, table=True):
    __tablename__ = "staff_member"
    __table_args__ = (
        UniqueConstraint("organisation_id", "source_system", "external_ref"),
        # A reference entered without a source system (a payroll number) is still unique.
        Index(
            "uq_staff_member_local_external_ref",
            "organisation_id",
            "external_ref",
            unique=True,
            postgresql_where=text("source_system IS NULL"),
        ),
        CheckConstraint("left_on IS NULL OR left_on >= started_on", name="dates_ordered"),
        Index("ix_staff_member_tenure", "organisation_id", "started_on", "left_on"),
    )

    organisation_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("organisation.id"), primary_key=True)
    )
    id: uuid.UUID = Field(default_factory=new_id, sa_column=Column(UUID(as_uuid=True), primary_key=True))
    role: str = Field(sa_column=Column(Text, nullable=False))
    display_name: str | None = Field(default=None, sa_column=Column(Text))
    started_on: date = Field(sa_column=Column(Date, nullable=False))
    left_on: date | None = Field(default=None, sa_column=Column(Date))
    source_system: str | None = Field(default=None, sa_column=Column(Text))
    external_ref: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class StaffMemberService(SQLModel, table=True):
    __tablename__ = "staff_member_service"
    __table_args__ = (
        tenant_fk(["staff_member_id"], "staff_member", ondelete="CASCADE"),
        tenant_fk(["service_id"], "service"),
        Index("ix_staff_member_service_service", "organisation_id", "service_id"),
    )

    organisation_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), primary_key=True))
    staff_member_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), primary_key=True))
    service_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), primary_key=True))
