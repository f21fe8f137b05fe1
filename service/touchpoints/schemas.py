"""Touchpoints as answered: a recorded touchpoint, its revisions, a batch's results, the list filters.

A touchpoint as posted (one model per kind) is part of its validation:
`service.touchpoints.validation.shape`.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.vocabulary import DeliverySystem, Shift, TouchpointKind


class FieldProblem(BaseModel):
    field: str
    rule: str
    message: str


class ItemProblem(BaseModel):
    """Why one item was refused (RFC 9457 problem details)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = None


class ItemResult(BaseModel):
    index: int
    status: Literal["created", "duplicate", "rejected"]
    id: uuid.UUID | None = None
    problem: ItemProblem | None = None


class TouchpointBatchResults(BaseModel):
    results: list[ItemResult]


class TouchpointRevisionPublic(BaseModel):
    revision: int
    content: dict[str, Any] = Field(
        description="The record as it stood: every posted and derived field; its free text (`text`, "
        "free-text facts) null when the caller may not read free text."
    )
    recorded_at: datetime
    recorded_by_sub: str
    replaced_at: datetime
    replaced_by_sub: str


class TouchpointPublic(BaseModel):
    id: uuid.UUID
    kind: TouchpointKind
    system: DeliverySystem
    service_id: uuid.UUID
    occurred_at: datetime
    recorded_at: datetime = Field(description="When the current revision was recorded.")
    shift: Shift
    weekend: bool = Field(description="The shift began on a Saturday or Sunday, local time.")
    recorded_by_id: uuid.UUID | None
    subject_staff_id: uuid.UUID | None
    person_ref_id: uuid.UUID | None
    innovation_ids: list[uuid.UUID]
    source_system: str | None
    external_id: str | None
    text: str | None = Field(description="Null when there is none or the caller may not read free text.")
    facts: dict[str, Any] = Field(
        description="The facts of its kind; those marked free text (`x-free-text` in the posted "
        "schema) are null when the caller may not read free text."
    )
    revision: int
    recorded_by_sub: str = Field(description="The token subject that recorded the current revision.")


class TouchpointDetail(TouchpointPublic):
    revisions: list[TouchpointRevisionPublic] = Field(
        description="Earlier revisions, oldest first; empty when the record was never corrected."
    )


@dataclass(frozen=True, slots=True)
class TouchpointFilters:
    """What a list of touchpoints may be narrowed to; every filter given must hold."""

    service_id: uuid.UUID | None = None
    kind: TouchpointKind | None = None
    system: DeliverySystem | None = None
    innovation_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None  # recorder or subject
    person_ref_id: uuid.UUID | None = None
    source_system: str | None = None
    occurred_from: datetime | None = None  # inclusive
    occurred_to: datetime | None = None  # exclusive
