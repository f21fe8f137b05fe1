"""API shapes of organisations, commissioning relationships and access grants."""

import uuid
from datetime import date, datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from service.input_model import ApiInput
from service.vocabulary import OrganisationKind

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ServiceIds = Annotated[
    list[uuid.UUID] | None,
    Field(max_length=1000, description="A subset of the provider's services; null means all of them."),
]


def _dates_ordered(starts_on: date, ends_on: date | None) -> None:
    if ends_on is not None and ends_on < starts_on:
        raise ValueError("ends_on must not be before starts_on")


class OrganisationCreate(ApiInput):
    model_config = ConfigDict(extra="forbid")

    name: Name
    kind: OrganisationKind


class OrganisationPublic(BaseModel):
    id: uuid.UUID
    name: str
    kind: OrganisationKind
    created_at: datetime


class CommissioningRelationshipCreate(ApiInput):
    model_config = ConfigDict(extra="forbid")

    commissioner_id: uuid.UUID = Field(description="An organisation of kind `commissioner`.")
    provider_id: uuid.UUID = Field(description="An organisation of kind `provider`.")
    service_ids: ServiceIds = None
    starts_on: date
    ends_on: date | None = Field(default=None, description="Last day in force; null: open-ended.")

    @model_validator(mode="after")
    def _check_dates(self) -> Self:
        _dates_ordered(self.starts_on, self.ends_on)
        return self


class CommissioningRelationshipUpdate(ApiInput):
    """Fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    service_ids: ServiceIds = None
    ends_on: date | None = Field(default=None, description="Set to end the relationship; null reopens it.")


class CommissioningRelationshipPublic(BaseModel):
    id: uuid.UUID
    commissioner_id: uuid.UUID
    provider_id: uuid.UUID
    service_ids: list[uuid.UUID] | None
    starts_on: date
    ends_on: date | None
    created_at: datetime
    active: bool = Field(description="In force today.")


class AccessGrantCreate(ApiInput):
    model_config = ConfigDict(extra="forbid")

    regulator_id: uuid.UUID = Field(description="An organisation of kind `regulator`.")
    starts_on: date
    ends_on: date = Field(description="Last day the regulator may read; a grant always ends.")

    @model_validator(mode="after")
    def _check_dates(self) -> Self:
        _dates_ordered(self.starts_on, self.ends_on)
        return self


class AccessGrantPublic(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID = Field(description="The provider that granted access.")
    regulator_id: uuid.UUID
    starts_on: date
    ends_on: date
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    active: bool = Field(description="In force today: started, not ended, not revoked.")
