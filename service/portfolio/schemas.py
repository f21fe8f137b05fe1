"""API shapes of a commissioner's portfolio: every commissioned provider's statuses, and stage changes."""

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from service.status.schemas import InnovationStatuses, StageReasonPublic
from service.status.vocabulary import IndicatorKey, Stage


class PortfolioService(BaseModel):
    service_id: uuid.UUID
    name: str
    cqc_location_id: str | None


class PortfolioProvider(BaseModel):
    provider_id: uuid.UUID
    provider_name: str
    services: list[PortfolioService] = Field(description="The services commissioned on `as_of`'s date.")
    innovations: list[InnovationStatuses] = Field(
        description="Each innovation in scope at a commissioned service: the provider row (rolled up "
        "over the commissioned services only) and one row per commissioned service."
    )


class IndicatorMedian(BaseModel):
    """One indicator's median across the portfolio's rows, to compare a provider's value with."""

    key: IndicatorKey
    median: float | None = Field(
        description="The median `value` of this indicator over the provider rows (one per innovation "
        "per provider, rolled up over the commissioned services) of the innovations on this page that "
        "pass the filters: the whole filtered portfolio when `next_cursor` is null. Only rows rated "
        "green, amber or red count; a value withheld as small counts (null), `insufficient_evidence` "
        "and `not_applicable` are left out. Null when no row counts."
    )
    rows: int = Field(description="How many rows the median is taken over.")


class PortfolioPage(BaseModel):
    items: list[PortfolioProvider]
    next_cursor: str | None = None
    medians: list[IndicatorMedian] = Field(
        default_factory=list, description="Each indicator's median over the rows shown, in indicator order."
    )
    as_of: datetime = Field(description="Default: the start of the current hour, so that polls agree.")
    window_days: int


class StageChange(BaseModel):
    provider_id: uuid.UUID
    provider_name: str
    innovation_id: uuid.UUID
    innovation_name: str
    service_id: uuid.UUID | None = Field(description="Null for the provider row.")
    month: date = Field(description="The month whose status changed.")
    changed_at: datetime = Field(description="The end of that month's window (`as_of` for the current one).")
    from_stage: Stage
    to_stage: Stage
    stage_reasons: list[StageReasonPublic]


class StageChangePage(BaseModel):
    items: list[StageChange]
    next_cursor: str | None = None
    since: date
    as_of: datetime
    window_days: int
