"""The change feed's shapes."""

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class StatusChange(BaseModel):
    before: str | None
    after: str | None
    key: str | None = Field(default=None, description="The indicator, for `indicator.rag_changed`.")


class StatusEvent(BaseModel):
    """A stage or an indicator's RAG changed when a status was recomputed."""

    id: str = Field(description="Its place in the feed: pass it as `after` to read what follows.")
    type: Literal["status.stage_changed", "indicator.rag_changed"]
    occurred_at: datetime
    organisation_id: uuid.UUID = Field(description="The provider.")
    innovation_id: uuid.UUID
    service_id: uuid.UUID | None = Field(description="Null for the provider, over all its services.")
    data: StatusChange

    @classmethod
    def of(cls, row: Any) -> "StatusEvent":
        return cls(
            id=str(row.id),
            type=row.type,
            occurred_at=row.occurred_at,
            organisation_id=row.organisation_id,
            innovation_id=row.innovation_id,
            service_id=row.service_id,
            data=StatusChange.model_validate(row.data),
        )
