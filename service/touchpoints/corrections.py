"""Correcting a touchpoint: the whole record is replaced and the one it replaces is kept as a revision.

The revision keeps the record's full content as it stood (every posted field and the derived system,
shift and weekend flag), when that content was recorded and by whom, and when and by whom it was
replaced, so a status can be recomputed as it was known on any day. `recorded_at` of the touchpoint
becomes the time of the correction.

A correction carrying the stored content unchanged is answered `unchanged` and writes nothing, so a
client may retry a PUT freely. The record's (source_system, external_id) identify it and cannot change.
A caller corrects only what it may read (see `reading`); anything else is 404.

`PUT /v1/touchpoints/by-source/{source_system}/{external_id}` creates the record when no record has
that key yet, so a sending system can upsert by its own id.

Upserts of one key arriving together are applied one after another, never refused for losing a
race: each takes a transaction-level advisory lock on the key (`repository.corrections.lock_source_key`, a
64-bit hash of organisation, source system and external id) before it looks the key up, and holds
it until its transaction commits. The next one then finds the record the first stored (read
committed: each statement sees what committed before it) and corrects it, or answers `unchanged`
for the same content. Identical upserts so store one touchpoint; different ones become revisions
1..N in the order they got the lock. The lock was chosen over INSERT … ON CONFLICT DO UPDATE
because a correction is more than an update of the row: it checks the caller may see the record,
keeps the replaced content as a revision, relinks innovations and logs the access, all of which
must see the previous winner's committed state. A POST of the same key takes no lock; an upsert
that loses the insert to one corrects what the POST stored.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.service import record_access
from service.auth.principal import Principal
from service.errors import Conflict, NotFound
from service.model_helpers import utcnow
from service.policy import Permission, check
from service.touchpoints.ingest import record_touchpoint
from service.touchpoints.reading import load_touchpoint
from service.touchpoints.repository.corrections import (
    hold_visible_touchpoint,
    lock_source_key,
    replace_touchpoint,
    stored_id,
)
from service.touchpoints.repository.lookups import References, look_up
from service.touchpoints.repository.writes import row_values
from service.touchpoints.rollups import rollup_services
from service.touchpoints.schemas import TouchpointPublic
from service.touchpoints.shifts import ShiftPatterns
from service.touchpoints.validation import (
    TouchpointCreateItem,
    check_path_key,
    check_references,
    content_hash,
    reference_needs,
    validate_touchpoint,
)


@dataclass(frozen=True, slots=True)
class CorrectedTouchpoint:
    status: Literal["corrected", "unchanged", "created", "duplicate"]
    touchpoint: TouchpointPublic


async def correct_touchpoint(
    *, session: AsyncSession, principal: Principal, touchpoint_id: uuid.UUID, item: Mapping[str, Any]
) -> CorrectedTouchpoint:
    """Replace touchpoint `touchpoint_id` with `item` (a whole record as posted), keeping a revision."""
    check(principal, Permission.touchpoint_write)
    stored = await hold_visible_touchpoint(session, principal, touchpoint_id)
    if stored is None:
        raise NotFound(f"no touchpoint {touchpoint_id}")
    now = utcnow()
    checked = validate_touchpoint(
        item,
        principal=principal,
        now=now,
        stored_key=(stored["source_system"], stored["external_id"]),
    )
    new_hash = content_hash(checked)
    status: Literal["corrected", "unchanged"] = "unchanged"
    if new_hash != stored["content_hash"]:
        refs = await _checked_references(session, stored, checked, item)
        await _replace(session, principal, stored, checked, refs, now=now, new_hash=new_hash)
        status = "corrected"
    touchpoint = await load_touchpoint(session=session, principal=principal, touchpoint_id=touchpoint_id)
    return CorrectedTouchpoint(status, touchpoint)


async def _checked_references(
    session: AsyncSession, stored: RowMapping, checked: TouchpointCreateItem, raw: Any
) -> References:
    """What the correction refers to, once it holds, and the incident the stored record follows."""
    needs = reference_needs([checked])
    if stored["incident_id"] is not None:
        needs.touchpoint_ids.add(stored["incident_id"])
    refs, _ = await look_up(
        session,
        stored["organisation_id"],
        service_ids=needs.service_ids,
        staff_ids=needs.staff_ids,
        person_ids=needs.person_ids,
        innovation_ids=needs.innovation_ids,
        touchpoint_ids=needs.touchpoint_ids,
        source_keys=[],
    )
    problem = check_references(checked, raw, refs, ())
    if problem is not None:
        raise problem
    return refs


async def _replace(
    session: AsyncSession,
    principal: Principal,
    stored: RowMapping,
    checked: TouchpointCreateItem,
    refs: References,
    *,
    now: datetime,
    new_hash: str,
) -> None:
    touchpoint_id = stored["id"]
    shift, weekend = (
        ShiftPatterns(refs.services).of(checked.service_id).locate(checked.occurred_at, checked.shift)
    )
    # The old record's months are taken away and the new one's added: both services' rollups.
    touched = rollup_services([checked], refs) | {stored["service_id"]}
    if stored["incident_id"] in refs.touchpoint_services:
        touched.add(refs.touchpoint_services[stored["incident_id"]])
    await replace_touchpoint(
        session,
        stored,
        values=row_values(checked, touchpoint_id, shift=shift.value, weekend=weekend, content_hash=new_hash),
        innovation_ids=checked.innovation_ids,
        rollup_services=touched,
        replaced_at=now,
        replaced_by_sub=principal.sub,
    )
    record_access(
        session,
        principal=principal,
        action="touchpoint.correct",
        resource_type="touchpoint",
        record_ids=[touchpoint_id],
    )


async def correct_touchpoint_by_source(
    *,
    session: AsyncSession,
    principal: Principal,
    source_system: str,
    external_id: str,
    item: Mapping[str, Any],
) -> CorrectedTouchpoint:
    """Replace the record the sending system knows as (source_system, external_id), or create it."""
    check(principal, Permission.touchpoint_write)
    organisation_id = principal.require_organisation()
    check_path_key(item, source_system, external_id)
    await lock_source_key(session, organisation_id, source_system, external_id)
    keyed = (
        {**item, "source_system": source_system, "external_id": external_id}
        if isinstance(item, Mapping)
        else item
    )
    found = await stored_id(session, organisation_id, source_system, external_id)
    if found is None:
        try:
            recorded = await record_touchpoint(session=session, principal=principal, item=keyed)
        except Conflict:
            # A POST of this key (which takes no lock) stored it first, with other content.
            found = await stored_id(session, organisation_id, source_system, external_id)
            if found is None:
                raise
        else:
            return CorrectedTouchpoint(recorded.status, recorded.touchpoint)
    return await correct_touchpoint(session=session, principal=principal, touchpoint_id=found, item=keyed)
