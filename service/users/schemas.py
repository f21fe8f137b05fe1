"""API shapes of user accounts."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.input_model import ApiInput
from service.vocabulary import Role

Subject = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255),
    Field(description="The `sub` claim the identity provider puts in this person's tokens."),
]
Issuer = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2048),
    Field(
        description="The `iss` of this person's tokens: INGRAIN_JWT_ISSUER (the default) or an identity "
        "provider trusted for the organisation. A `sub` is unique only within its issuer."
    ),
]
RoleList = Annotated[list[Role], Field(min_length=1, max_length=len(Role), description="At least one role.")]
ServiceLimit = Annotated[
    list[uuid.UUID] | None,
    Field(max_length=1000, description="Services the user is limited to; null means every service."),
]


class UserCreate(ApiInput):
    model_config = ConfigDict(extra="forbid")

    sub: Subject
    issuer: Issuer | None = None
    roles: RoleList
    service_ids: ServiceLimit = None


class UserUpdate(ApiInput):
    """Fields left out stay as they are; `service_ids: null` lifts a service limit."""

    model_config = ConfigDict(extra="forbid")

    roles: RoleList | None = None
    service_ids: ServiceLimit = None
    disabled: bool | None = Field(
        default=None, description="A disabled account's tokens are refused (401) until it is enabled."
    )


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organisation_id: uuid.UUID
    issuer: str
    sub: str
    roles: list[Role]
    service_ids: list[uuid.UUID] | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    disabled_at: datetime | None
    active: bool
