"""What a touchpoint refers to must exist in the caller's organisation, and fit together.

References are to the organisation's reference data (its service; staff as recorder, subject or
buddy; a person; innovations) and, for a post-incident review, to an `incident` touchpoint. Every
referenced innovation must be in scope of the touchpoint's service: a reference to an innovation
that does not run there is almost always a mapping error in the sending system, and counting it
would put evidence where the innovation is not in use, so it is refused with a message saying to
add the service to the innovation first.

`reference_needs` says what to look up (for a whole batch at once); the repository's `look_up`
finds it; `check_references` judges one item against what was found.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from service.errors import ProblemError
from service.touchpoints.repository.lookups import References
from service.touchpoints.validation.problems import Path, field_error, invalid
from service.touchpoints.validation.shape import TouchpointCreateItem

_MISSING = "reference_not_found"
FieldErrors = list[dict[str, str]]


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


def check_references(
    item: TouchpointCreateItem, raw: Any, refs: References, prefix: Path
) -> ProblemError | None:
    """The problem with what `item` (posted as `raw`) refers to, judged against `refs`; None if none."""
    errors = [
        *_service_and_people(item, refs, prefix),
        *_innovations(item, raw, refs, prefix),
        *_incident(item, refs, prefix),
    ]
    return invalid(errors) if errors else None


def _service_and_people(item: TouchpointCreateItem, refs: References, prefix: Path) -> FieldErrors:
    errors = []
    if item.service_id not in refs.services:
        errors.append(
            field_error(prefix, ("service_id",), _MISSING, "no service with this id in your organisation")
        )
    staff_refs: list[tuple[tuple[str | int, ...], uuid.UUID | None]] = [
        (("recorded_by_id",), item.recorded_by_id),
        (("subject_staff_id",), item.subject_staff_id),
        (("facts", "buddy_id"), item.facts.__dict__.get("buddy_id")),
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
    return errors


def _innovations(item: TouchpointCreateItem, raw: Any, refs: References, prefix: Path) -> FieldErrors:
    errors = []
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
    return errors


def _incident(item: TouchpointCreateItem, refs: References, prefix: Path) -> FieldErrors:
    incident_id = item.facts.__dict__.get("incident_id")
    if incident_id is None:
        return []
    kind = refs.touchpoints.get(incident_id)
    if kind is None:
        return [
            field_error(
                prefix, ("facts", "incident_id"), _MISSING, "no touchpoint with this id in your organisation"
            )
        ]
    if kind != "incident":
        return [
            field_error(
                prefix, ("facts", "incident_id"), "not_an_incident", f"refers to a {kind}, not an incident"
            )
        ]
    return []


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
