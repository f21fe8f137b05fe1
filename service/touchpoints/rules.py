"""The rules one touchpoint must meet beyond its shape, shared by recording and correcting.

- `occurred_at` may be at most CLOCK_SKEW in the future.
- `source_system` and `external_id` come together. An integration client whose token names its source
  system writes only as that system; when it sends an `external_id` alone, its system is assumed.
- A caller limited to some services records only for those.
- References exist in the caller's organisation: service, staff (recorder, subject, buddy), person,
  innovations, and for a post-incident review an `incident` touchpoint.
- Every referenced innovation is in scope of the touchpoint's service. A reference to an innovation
  that does not run at that service is almost always a mapping error in the sending system, and
  counting it would put evidence where the innovation is not in use; it is refused with a message
  saying to add the service to the innovation first.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.auth.principal import Principal
from service.errors import Forbidden, ProblemError
from service.moments import CLOCK_SKEW
from service.touchpoints.repository import References
from service.touchpoints.schemas import TouchpointCreateItem
from service.touchpoints.shifts import ShiftPattern, shift_pattern
from service.touchpoints.validation import Path, field_error, invalid, path_of
from service.vocabulary import SYSTEM_OF_KIND

SYSTEM_OF = {kind.value: system.value for kind, system in SYSTEM_OF_KIND.items()}


def apply_item_rules(
    item: TouchpointCreateItem, principal: Principal, prefix: Path, latest: datetime
) -> TouchpointCreateItem | ProblemError:
    """The item with the caller's source system filled in, or the problem with it."""
    if not principal.may_see_service(item.service_id):
        message = "you may record touchpoints only for the services your token names"
        return Forbidden(
            f"{path_of(prefix, 'service_id')}: {message}",
            errors=[field_error(prefix, ("service_id",), "service_out_of_scope", message)],
        )
    own_system = principal.source_system
    if own_system is not None and item.source_system not in (None, own_system):
        message = f"this client writes as source system {own_system!r}"
        return Forbidden(
            f"{path_of(prefix, 'source_system')}: {message}",
            errors=[field_error(prefix, ("source_system",), "source_system_mismatch", message)],
        )
    errors = []
    if item.occurred_at > latest:
        errors.append(
            field_error(
                prefix,
                ("occurred_at",),
                "in_future",
                f"may be at most {int(CLOCK_SKEW.total_seconds())} seconds in the future",
            )
        )
    if item.external_id is not None and item.source_system is None:
        if own_system is None:
            errors.append(
                field_error(prefix, ("source_system",), "source_pair", "required when external_id is given")
            )
        else:
            item = item.model_copy(update={"source_system": own_system})
    elif item.source_system is not None and item.external_id is None:
        errors.append(
            field_error(prefix, ("external_id",), "source_pair", "required when source_system is given")
        )
    return invalid(errors) if errors else item


@dataclass(frozen=True, slots=True)
class ReferenceNeeds:
    service_ids: set[uuid.UUID]
    staff_ids: set[uuid.UUID]
    person_ids: set[uuid.UUID]
    innovation_ids: set[uuid.UUID]
    touchpoint_ids: set[uuid.UUID]


def reference_needs(items: list[TouchpointCreateItem]) -> ReferenceNeeds:
    needs = ReferenceNeeds(set(), set(), set(), set(), set())
    for item in items:
        needs.service_ids.add(item.service_id)
        needs.staff_ids.add(item.recorded_by_id)
        if item.subject_staff_id is not None:
            needs.staff_ids.add(item.subject_staff_id)
        if item.person_ref_id is not None:
            needs.person_ids.add(item.person_ref_id)
        needs.innovation_ids.update(item.innovation_ids)
        facts = item.facts.__dict__
        buddy = facts.get("buddy_id")
        if buddy is not None:
            needs.staff_ids.add(buddy)
        incident = facts.get("incident_id")
        if incident is not None:
            needs.touchpoint_ids.add(incident)
    return needs


def rollup_services(items: Iterable[TouchpointCreateItem], refs: References) -> set[uuid.UUID]:
    """The services whose status rollups writing these items touches: each item's own, and for a
    post-incident review the incident's (its month's reviews are recounted)."""
    services: set[uuid.UUID] = set()
    for item in items:
        services.add(item.service_id)
        incident = item.facts.__dict__.get("incident_id")
        if incident is not None and incident in refs.touchpoint_services:
            services.add(refs.touchpoint_services[incident])
    return services


_MISSING = "reference_not_found"


def check_references(
    item: TouchpointCreateItem, raw: Any, refs: References, prefix: Path
) -> ProblemError | None:
    errors = []
    facts = item.facts.__dict__
    if item.service_id not in refs.services:
        errors.append(
            field_error(prefix, ("service_id",), _MISSING, "no service with this id in your organisation")
        )
    staff_refs: list[tuple[tuple[str | int, ...], uuid.UUID | None]] = [
        (("recorded_by_id",), item.recorded_by_id),
        (("subject_staff_id",), item.subject_staff_id),
        (("facts", "buddy_id"), facts.get("buddy_id")),
    ]
    for loc, staff_id in staff_refs:
        if staff_id is not None and staff_id not in refs.staff:
            errors.append(
                field_error(prefix, loc, _MISSING, "no staff member with this id in your organisation")
            )
    if item.person_ref_id is not None and item.person_ref_id not in refs.people:
        errors.append(
            field_error(prefix, ("person_ref_id",), _MISSING, "no person with this id in your organisation")
        )
    for innovation_id in item.innovation_ids:
        scope = refs.innovations.get(innovation_id)
        if scope is None:
            errors.append(
                field_error(
                    prefix,
                    ("innovation_ids", _posted_position(raw, innovation_id)),
                    _MISSING,
                    "no innovation with this id in your organisation",
                )
            )
        elif item.service_id in refs.services and item.service_id not in scope:
            errors.append(
                field_error(
                    prefix,
                    ("innovation_ids", _posted_position(raw, innovation_id)),
                    "innovation_not_in_service",
                    f"innovation {innovation_id} is not in scope of service {item.service_id}; "
                    "add the service to the innovation's services first",
                )
            )
    incident_id = facts.get("incident_id")
    if incident_id is not None:
        kind = refs.touchpoints.get(incident_id)
        if kind is None:
            errors.append(
                field_error(
                    prefix,
                    ("facts", "incident_id"),
                    _MISSING,
                    "no touchpoint with this id in your organisation",
                )
            )
        elif kind != "incident":
            errors.append(
                field_error(
                    prefix,
                    ("facts", "incident_id"),
                    "not_an_incident",
                    f"refers to a {kind}, not an incident",
                )
            )
    return invalid(errors) if errors else None


def _posted_position(raw: Any, innovation_id: uuid.UUID) -> int:
    """Where the client put this id in its list (the validated list is sorted and de-duplicated)."""
    posted = raw.get("innovation_ids") if isinstance(raw, dict) else None
    for position, value in enumerate(posted or ()):
        try:
            if uuid.UUID(str(value)) == innovation_id:
                return position
        except ValueError:
            continue
    return 0


class ShiftPatterns:
    """Each referenced service's shift pattern, parsed once per request."""

    def __init__(self, refs: References) -> None:
        self._refs = refs
        self._patterns: dict[uuid.UUID, ShiftPattern] = {}

    def of(self, service_id: uuid.UUID) -> ShiftPattern:
        pattern = self._patterns.get(service_id)
        if pattern is None:
            service = self._refs.services[service_id]
            pattern = shift_pattern(service.timezone, service.shift_pattern)
            self._patterns[service_id] = pattern
        return pattern
