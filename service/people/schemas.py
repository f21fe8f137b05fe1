"""API shapes of a person reference: a pseudonymous external id and the services supporting the person.
No names, no clinical data."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field

from service.reference.types import ExternalRef, InputModel, PatchModel, ServiceIds, SourceSystem

SERVICES_DESCRIPTION = (
    "Services supporting the person. Callers limited to some services see only people of those services."
)


class PersonRefCreate(InputModel):
    external_ref: ExternalRef
    source_system: SourceSystem | None = None
    service_ids: ServiceIds = Field(default_factory=list, description=SERVICES_DESCRIPTION)


class PersonRefSync(InputModel):
    """The person as its source system holds it; the reference is in the URL."""

    service_ids: ServiceIds | None = Field(
        default=None, description=SERVICES_DESCRIPTION + " Omitted: left as they are."
    )


class PersonRefUpdate(PatchModel):
    service_ids: ServiceIds | None = Field(default=None, description=SERVICES_DESCRIPTION)


class PersonRefPublic(BaseModel):
    id: uuid.UUID
    external_ref: str
    source_system: str | None
    service_ids: list[uuid.UUID] = Field(
        description="The caller's view: services outside its scope are left out."
    )
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PersonRefFilter:
    service_id: uuid.UUID | None = None
    source_system: str | None = None
    external_ref: str | None = None
