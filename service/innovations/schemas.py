"""API shapes of an innovation: what it is, why, where it is in scope, its phase and embedding plan."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from service.innovations.models import DEFAULT_EMBEDDING_PLAN
from service.reference.types import (
    AtLeastOneServiceIds,
    ExternalRef,
    InputModel,
    Name,
    PatchModel,
    SourceSystem,
)
from service.vocabulary import Phase

Summary = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Why = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=4000),
    Field(description="The rationale staff should be able to explain, not only what to do."),
]
MonthlyCount = Annotated[int, Field(ge=0, le=10_000)]

PLAN_DESCRIPTION = (
    "Expected referencing touchpoints per month per delivery system. Systems left out take the default: "
    + ", ".join(f"{system} {count}" for system, count in DEFAULT_EMBEDDING_PLAN.items())
    + "."
)
PHASE_DESCRIPTION = "Declared phase; an innovation is never deleted, it retires (`retired`)."


class EmbeddingPlan(BaseModel):
    """Expected referencing touchpoints per month in each delivery system (0: follows events only)."""

    care_records: int
    team_communication: int
    supervision: int
    quality_assurance: int
    workforce: int
    incident_learning: int
    staff_voice: int


class EmbeddingPlanInput(PatchModel):
    """Some delivery systems' monthly expectations; the others keep theirs (or the default)."""

    care_records: MonthlyCount | None = None
    team_communication: MonthlyCount | None = None
    supervision: MonthlyCount | None = None
    quality_assurance: MonthlyCount | None = None
    workforce: MonthlyCount | None = None
    incident_learning: MonthlyCount | None = None
    staff_voice: MonthlyCount | None = None


class InnovationFields(InputModel):
    name: Name
    summary: Summary = ""
    why: Why
    started_on: date
    service_ids: AtLeastOneServiceIds = Field(description="Services in scope.")
    phase: Phase = Field(default=Phase.pilot, description=PHASE_DESCRIPTION)
    embedding_plan: EmbeddingPlanInput | None = Field(default=None, description=PLAN_DESCRIPTION)


class InnovationCreate(InnovationFields):
    source_system: SourceSystem | None = None
    external_ref: ExternalRef | None = None


class InnovationSync(InnovationFields):
    """The whole innovation as its source system holds it; the reference is in the URL."""


class InnovationUpdate(PatchModel):
    name: Name | None = None
    summary: Summary | None = None
    why: Why | None = None
    started_on: date | None = None
    service_ids: AtLeastOneServiceIds | None = Field(default=None, description="Services in scope.")
    phase: Phase | None = Field(default=None, description=PHASE_DESCRIPTION)
    embedding_plan: EmbeddingPlanInput | None = Field(
        default=None, description="The delivery systems named change; the others keep their expectation."
    )


class InnovationPublic(BaseModel):
    id: uuid.UUID
    name: str
    summary: str
    why: str
    started_on: date
    service_ids: list[uuid.UUID] = Field(
        description="Services in scope; the caller's view leaves out services outside its own."
    )
    phase: Phase
    embedding_plan: EmbeddingPlan
    source_system: str | None
    external_ref: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class InnovationFilter:
    service_id: uuid.UUID | None = None
    phase: Phase | None = None
    source_system: str | None = None
