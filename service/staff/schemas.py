"""API shapes of a staff member. Names and external references are personal data: they are shown
only to callers allowed to read staff identity, and are null for everyone else."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel, Field

from service.reference.types import (
    AtLeastOneServiceIds,
    ExternalRef,
    InputModel,
    Name,
    PatchModel,
    SourceSystem,
)
from service.vocabulary import StaffRole

LEFT_ON_DESCRIPTION = "Last working day; null while employed. Staff are never deleted: they leave."


class StaffMemberFields(InputModel):
    role: StaffRole
    service_ids: AtLeastOneServiceIds
    started_on: date
    left_on: date | None = Field(default=None, description=LEFT_ON_DESCRIPTION)
    display_name: Name | None = Field(default=None, description="Optional; personal data.")


class StaffMemberCreate(StaffMemberFields):
    source_system: SourceSystem | None = None
    external_ref: ExternalRef | None = None


class StaffMemberSync(StaffMemberFields):
    """The whole staff member as its source system holds it; the reference is in the URL."""


class StaffMemberUpdate(PatchModel):
    nullable_fields = frozenset({"left_on", "display_name"})

    role: StaffRole | None = None
    service_ids: AtLeastOneServiceIds | None = None
    started_on: date | None = None
    left_on: date | None = Field(default=None, description=LEFT_ON_DESCRIPTION)
    display_name: Name | None = None


class StaffMemberPublic(BaseModel):
    id: uuid.UUID
    role: StaffRole
    service_ids: list[uuid.UUID] = Field(
        description="The caller's view: services outside its scope are left out."
    )
    started_on: date
    left_on: date | None = Field(description=LEFT_ON_DESCRIPTION)
    display_name: str | None = Field(description="Null for callers that may not read staff identity.")
    source_system: str | None
    external_ref: str | None = Field(description="Null for callers that may not read staff identity.")
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StaffFilter:
    service_id: uuid.UUID | None = None
    role: StaffRole | None = None
    # Employed on that day (started_on ≤ day ≤ left_on); overrides `include_leavers`.
    active_on: date | None = None
    include_leavers: bool = False
    source_system: str | None = None
