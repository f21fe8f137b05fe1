"""API shapes of a service: a location or branch of a provider."""

import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from service.reference.types import ExternalRef, InputModel, Name, PatchModel, SourceSystem
from service.services.models import DEFAULT_SHIFT_PATTERN

DEFAULT_TIMEZONE = "Europe/London"


@lru_cache(maxsize=1)
def _iana_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _known_timezone(value: str) -> str:
    # Checked against the IANA database rather than by loading it, so a path is never opened.
    if value not in _iana_zones():
        raise PydanticCustomError("timezone_unknown", "not an IANA time zone name, e.g. Europe/London")
    return value


Timezone = Annotated[
    str,
    AfterValidator(_known_timezone),
    Field(description="IANA time zone of the service; shifts are local to it.", examples=[DEFAULT_TIMEZONE]),
]
CqcLocationId = Annotated[
    str,
    StringConstraints(pattern=r"^1-[0-9]{1,15}$"),
    Field(description="The CQC location id, e.g. `1-123456789`.", examples=["1-123456789"]),
]
ClockTime = Annotated[
    str,
    StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
    Field(description="Local start time, HH:MM (24-hour).", examples=["07:00"]),
]


class ShiftPattern(InputModel):
    """Local start times of the three shifts; a shift runs until the next one starts."""

    early: ClockTime
    late: ClockTime
    night: ClockTime

    @model_validator(mode="after")
    def _in_day_order(self) -> "ShiftPattern":
        # Zero-padded HH:MM strings order like the times they name.
        if not self.early < self.late < self.night:
            raise PydanticCustomError(
                "shift_order", "shifts must start in the order early, late, night within the day"
            )
        return self


class ServiceFields(InputModel):
    name: Name
    timezone: Timezone = DEFAULT_TIMEZONE
    cqc_location_id: CqcLocationId | None = None
    shift_pattern: ShiftPattern | None = Field(
        default=None,
        description=f"Omitted: {DEFAULT_SHIFT_PATTERN['early']} / {DEFAULT_SHIFT_PATTERN['late']} / "
        f"{DEFAULT_SHIFT_PATTERN['night']}.",
    )


class ServiceCreate(ServiceFields):
    source_system: SourceSystem | None = None
    external_ref: ExternalRef | None = None


class ServiceSync(ServiceFields):
    """The whole service as its source system holds it; the reference is in the URL."""


class ServiceUpdate(PatchModel):
    nullable_fields = frozenset({"cqc_location_id"})

    name: Name | None = None
    timezone: Timezone | None = None
    cqc_location_id: CqcLocationId | None = None
    shift_pattern: ShiftPattern | None = None


class ServicePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    timezone: str
    cqc_location_id: str | None
    shift_pattern: ShiftPattern
    source_system: str | None
    external_ref: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ServiceFilter:
    source_system: str | None = None
    cqc_location_id: str | None = None
