"""The access log as the API shows it."""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class AccessLogEntryPublic(BaseModel):
    id: int
    at: datetime
    sub: str = Field(description="Token subject of the caller (a user, or an integration client's id).")
    roles: list[str]
    actor_organisation_id: uuid.UUID | None = Field(
        description="The caller's organisation; differs from yours when a commissioner or regulator read."
    )
    client_id: str | None
    action: str = Field(description="What was done, e.g. `integration_client.create`, `user.list`.")
    resource_type: str
    record_ids: list[uuid.UUID] | None = Field(description="The records touched (at most 1000 are kept).")
    record_count: int
    method: str | None
    path: str | None
    ip: str | None
    request_id: str | None
