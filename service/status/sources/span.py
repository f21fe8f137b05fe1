"""What every source reads for: the innovations (with the services each is in scope of) and the
range of months. Both read paths, the rollups and the recount from records, take these."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class InnovationServices:
    """The innovation a status is about: when it began and the services it is in scope of."""

    id: uuid.UUID
    started_on: date
    service_ids: tuple[uuid.UUID, ...]


@dataclass(frozen=True, slots=True)
class LoadRange:
    """Which months to load: [first_month, as_of), plus the outcomes baseline months."""

    as_of: datetime
    first_month: date
    baseline_months: tuple[date, ...]
