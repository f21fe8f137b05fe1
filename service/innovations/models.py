"""Innovations: a new way of working, its rationale, the services in scope and its embedding plan."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Index, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import UUID
from sqlmodel import Field, SQLModel

from service.model_helpers import jsonb_column, new_id, tenant_fk, timestamp_column, utcnow
from service.vocabulary import DeliverySystem, Phase, check_in

# Expected referencing touchpoints per month per delivery system when a plan does not say.
# The four core systems carry a steady cadence, because `system_visibility` looks for references
# in each of them month after month: most days' notes, about two handovers or meetings a week,
# every supervision in a small team, an audit plus an observation. Workforce, incident learning
# and staff voice follow events (new starters, incidents, survey rounds), so they expect none.
DEFAULT_EMBEDDING_PLAN: dict[str, int] = {
    DeliverySystem.care_records.value: 20,
    DeliverySystem.team_communication.value: 8,
    DeliverySystem.supervision.value: 4,
    DeliverySystem.quality_assurance.value: 2,
    DeliverySystem.workforce.value: 0,
    DeliverySystem.incident_learning.value: 0,
    DeliverySystem.staff_voice.value: 0,
}


def effective_embedding_plan(stored: dict[str, Any] | None) -> dict[str, int]:
    """The plan with a default for every delivery system the stored plan does not name."""
    return {
        system: int((stored or {}).get(system, default)) for system, default in DEFAULT_EMBEDDING_PLAN.items()
    }


class Innovation(SQLModel, table=True):
    __tablename__ = "innovation"
    __table_args__ = (
        CheckConstraint(check_in("phase", Phase), name="phase"),
        UniqueConstraint("organisation_id", "source_system", "external_ref"),
        Index(
            "uq_innovation_local_external_ref",
            "organisation_id",
            "external_ref",
            unique=True,
            postgresql_where=text("source_system IS NULL"),
        ),
        Index("ix_innovation_organisation_name", "organisation_id", "name"),
    )

    organisation_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("organisation.id"), primary_key=True)
    )
    id: uuid.UUID = Field(default_factory=new_id, sa_column=Column(UUID(as_uuid=True), primary_key=True))
    name: str = Field(sa_column=Column(Text, nullable=False))
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    why: str = Field(default="", sa_column=Column(Text, nullable=False))
    started_on: date = Field(sa_column=Column(Date, nullable=False))
    phase: str = Field(default="pilot", sa_column=Column(Text, nullable=False))
    # Expected touchpoints per month per delivery system, e.g. {"supervision": 1, "care_records": 20}.
    embedding_plan: dict[str, Any] = Field(sa_column=jsonb_column())
    # Per-innovation threshold overrides; the provider's defaults live on ProviderThresholds.
    thresholds: dict[str, Any] | None = Field(default=None, sa_column=jsonb_column(nullable=True))
    source_system: str | None = Field(default=None, sa_column=Column(Text))
    external_ref: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class InnovationService(SQLModel, table=True):
    __tablename__ = "innovation_service"
    __table_args__ = (
        tenant_fk(["innovation_id"], "innovation", ondelete="CASCADE"),
        tenant_fk(["service_id"], "service"),
    )

    organisation_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), primary_key=True))
    innovation_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), primary_key=True))
    service_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), primary_key=True))


class ProviderThresholds(SQLModel, table=True):
    """A provider's own defaults for indicator thresholds, tuned by its quality lead."""

    __tablename__ = "provider_thresholds"

    organisation_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("organisation.id"), primary_key=True)
    )
    thresholds: dict[str, Any] = Field(sa_column=jsonb_column())
    updated_by: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
