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
race: each takes a transaction-level advisory lock on the key (`repository.lock_source_key`, a
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

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.service import record_access
from service.auth.principal import Principal
from service.database import driver_connection
from service.errors import Conflict, NotFound
from service.jobs.queue import enqueue_recompute
from service.model_helpers import utcnow
from service.policy import Permission, check
from service.status.locks import lock_service_rollups
from service.touchpoints.ingest import record_touchpoint, row_values
from service.touchpoints.reading import TOUCHPOINT, T, load_touchpoint, visible_touchpoints
from service.touchpoints.repository import ROW_COLUMNS, lock_source_key, look_up
from service.touchpoints.rules import (
    CLOCK_SKEW,
    ShiftPatterns,
    apply_item_rules,
    check_references,
    reference_needs,
    rollup_services,
)
from service.touchpoints.schemas import TouchpointPublic
from service.touchpoints.validation import content_hash, field_error, invalid, validate_item


@dataclass(frozen=True, slots=True)
class CorrectedTouchpoint:
    status: Literal["corrected", "unchanged", "created", "duplicate"]
    touchpoint: TouchpointPublic


_CONTENT_FIELDS = (
    "kind",
    "system",
    "service_id",
    "occurred_at",
    "shift",
    "weekend",
    "recorded_by_id",
    "subject_staff_id",
    "person_ref_id",
    "source_system",
    "external_id",
    "text",
    "facts",
)


def content_of(row: Any, innovation_ids: list[uuid.UUID]) -> dict[str, Any]:
    """The record as it stands, as JSON: what a revision keeps."""
    content: dict[str, Any] = {}
    for name in _CONTENT_FIELDS:
        value = row[name]
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif name == "occurred_at":
            value = value.isoformat()
        content[name] = value
    content["innovation_ids"] = [str(i) for i in sorted(innovation_ids)]
    return content


_UPDATE_COLUMNS = ROW_COLUMNS[1:]  # every column but the id
_ASSIGNMENTS = ",\n  ".join(
    f"{name} = ${i + 5}::{sql_type}" + ("::jsonb" if name == "facts" else "")
    for i, (name, sql_type) in enumerate(_UPDATE_COLUMNS)
)
# Built from the constant column list only; values are bound parameters.
_UPDATE_SQL = f"""
UPDATE touchpoint SET
  {_ASSIGNMENTS},
  recorded_at = $3, recorded_by_sub = $4, revision = revision + 1
WHERE organisation_id = $1 AND id = $2
"""  # noqa: S608

_INSERT_REVISION_SQL = """
INSERT INTO touchpoint_revision (organisation_id, touchpoint_id, revision, content,
                                 recorded_at, recorded_by_sub, replaced_at, replaced_by_sub)
VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8)
"""

_RELINK_SQL = """
WITH dropped AS (
  DELETE FROM touchpoint_innovation
   WHERE organisation_id = $1 AND touchpoint_id = $2 AND NOT (innovation_id = ANY($3::uuid[]))
)
INSERT INTO touchpoint_innovation (organisation_id, touchpoint_id, innovation_id)
SELECT $1, $2, i FROM unnest($3::uuid[]) AS i
ON CONFLICT DO NOTHING
"""


async def correct_touchpoint(
    *, session: AsyncSession, principal: Principal, touchpoint_id: uuid.UUID, item: Mapping[str, Any]
) -> CorrectedTouchpoint:
    """Replace touchpoint `touchpoint_id` with `item` (a whole record as posted), keeping a revision."""
    check(principal, Permission.touchpoint_write)
    organisation_id = principal.require_organisation()
    current = (
        await session.execute(
            select(TOUCHPOINT)
            .where(visible_touchpoints(principal), T.id == touchpoint_id)
            # NO KEY: reviews being recorded of this record (an incident) take KEY SHARE on it
            # while holding their services' rollup locks; FOR UPDATE would wait on them.
            .with_for_update(key_share=True)
        )
    ).one_or_none()
    if current is None:
        raise NotFound(f"no touchpoint {touchpoint_id}")
    stored = current._mapping
    validated = validate_item(item, ())
    if not isinstance(validated, Exception):
        stored_key = (stored["source_system"], stored["external_id"])
        if validated.external_id is None and validated.source_system is None:
            validated = validated.model_copy(
                update={"source_system": stored_key[0], "external_id": stored_key[1]}
            )
        elif (validated.source_system, validated.external_id) != stored_key:
            validated = invalid(
                [
                    field_error(
                        (),
                        ("external_id",),
                        "immutable",
                        "source_system and external_id identify the record and cannot change; "
                        "omit them or send the stored ones",
                    )
                ]
            )
    if isinstance(validated, Exception):
        raise validated
    now = utcnow()
    checked = apply_item_rules(validated, principal, (), now + CLOCK_SKEW)
    if isinstance(checked, Exception):
        raise checked
    new_hash = content_hash(checked)
    if new_hash == stored["content_hash"]:
        touchpoint = await load_touchpoint(session=session, principal=principal, touchpoint_id=touchpoint_id)
        return CorrectedTouchpoint("unchanged", touchpoint)

    needs = reference_needs([checked])
    if stored["incident_id"] is not None:
        needs.touchpoint_ids.add(stored["incident_id"])
    refs, _ = await look_up(
        session,
        organisation_id,
        service_ids=needs.service_ids,
        staff_ids=needs.staff_ids,
        person_ids=needs.person_ids,
        innovation_ids=needs.innovation_ids,
        touchpoint_ids=needs.touchpoint_ids,
        source_keys=[],
    )
    problem = check_references(checked, item, refs, ())
    if problem is not None:
        raise problem
    shift, weekend = ShiftPatterns(refs).of(checked.service_id).locate(checked.occurred_at, checked.shift)

    conn = await driver_connection(session)
    # The old record's months are taken away and the new one's added: both services' rollups.
    touched = rollup_services([checked], refs) | {stored["service_id"]}
    if stored["incident_id"] in refs.touchpoint_services:
        touched.add(refs.touchpoint_services[stored["incident_id"]])
    await lock_service_rollups(conn, organisation_id, touched)
    linked = await conn.fetch(
        "SELECT innovation_id FROM touchpoint_innovation WHERE organisation_id = $1 AND touchpoint_id = $2",
        organisation_id,
        touchpoint_id,
    )
    previous = content_of(stored, [r[0] for r in linked])

    await conn.execute(
        _INSERT_REVISION_SQL,
        organisation_id,
        touchpoint_id,
        stored["revision"],
        json.dumps(previous),
        stored["recorded_at"],
        stored["recorded_by_sub"],
        now,
        principal.sub,
    )
    values = row_values(checked, touchpoint_id, shift=shift.value, weekend=weekend, content_hash=new_hash)
    await conn.execute(_UPDATE_SQL, organisation_id, touchpoint_id, now, principal.sub, *values[1:])
    await conn.execute(_RELINK_SQL, organisation_id, touchpoint_id, list(checked.innovation_ids))
    # Innovations it no longer references change as much as those it now does.
    await enqueue_recompute(conn, organisation_id, {r[0] for r in linked} | set(checked.innovation_ids))
    record_access(
        session,
        principal=principal,
        action="touchpoint.correct",
        resource_type="touchpoint",
        record_ids=[touchpoint_id],
    )
    touchpoint = await load_touchpoint(session=session, principal=principal, touchpoint_id=touchpoint_id)
    return CorrectedTouchpoint("corrected", touchpoint)


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
    mismatched = [
        field_error((), (name,), "path_mismatch", f"must be {expected!r} as in the path, or omitted")
        for name, expected in (("source_system", source_system), ("external_id", external_id))
        if isinstance(item, Mapping) and item.get(name) not in (None, expected)
    ]
    if mismatched:
        raise invalid(mismatched)
    await lock_source_key(await driver_connection(session), organisation_id, source_system, external_id)
    keyed = (
        {**item, "source_system": source_system, "external_id": external_id}
        if isinstance(item, Mapping)
        else item
    )
    found = await _stored_id(session, organisation_id, source_system, external_id)
    if found is None:
        try:
            recorded = await record_touchpoint(session=session, principal=principal, item=keyed)
        except Conflict:
            # A POST of this key (which takes no lock) stored it first, with other content.
            found = await _stored_id(session, organisation_id, source_system, external_id)
            if found is None:
                raise
        else:
            return CorrectedTouchpoint(recorded.status, recorded.touchpoint)
    return await correct_touchpoint(session=session, principal=principal, touchpoint_id=found, item=keyed)


async def _stored_id(
    session: AsyncSession, organisation_id: uuid.UUID, source_system: str, external_id: str
) -> uuid.UUID | None:
    found: uuid.UUID | None = (
        await session.execute(
            select(T.id).where(
                T.organisation_id == organisation_id,
                T.source_system == source_system,
                T.external_id == external_id,
            )
        )
    ).scalar_one_or_none()
    return found
