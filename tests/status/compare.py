"""Comparing the two ways of loading a status: rollups against raw rows."""

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from service.status.evaluation.inputs import StatusInputs
from service.status.subjects import StatusSubject, load_subjects


def by_staff_id(inputs: StatusInputs) -> dict[Any, dict[uuid.UUID, int]]:
    """Recorders' counts keyed by who they are rather than by their position in `staff`."""
    return {k: {inputs.staff[s].id: n for s, n in v.items()} for k, v in inputs.staff_counts.items()}


def normalised(inputs: StatusInputs) -> StatusInputs:
    return replace(
        inputs,
        months={k: v for k, v in sorted(inputs.months.items()) if not v.is_empty()},
        staff_counts={
            k: {s: n for s, n in sorted(v.items()) if n}
            for k, v in sorted(inputs.staff_counts.items())
            if any(v.values())
        },
        baseline={k: v for k, v in sorted(inputs.baseline.items()) if not v.is_empty()},
        audit_months=dict(sorted(inputs.audit_months.items())),
        recent_incidents=sorted(inputs.recent_incidents, key=lambda i: i.touchpoint_id),
        starters=sorted(inputs.starters, key=lambda s: s.id),
    )


async def both_paths(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    *,
    as_of: datetime,
    window_days: int = 90,
    history: int = 1,
) -> tuple[list[StatusSubject], list[StatusSubject]]:
    fast = await load_subjects(
        session, organisation_id, as_of=as_of, window_days=window_days, history=history
    )
    slow = await load_subjects(
        session, organisation_id, as_of=as_of, window_days=window_days, history=history, recount=True
    )
    return fast, slow


def assert_same(fast: list[StatusSubject], slow: list[StatusSubject]) -> None:
    assert [s.innovation.id for s in fast] == [s.innovation.id for s in slow]
    for a, b in zip(fast, slow, strict=True):
        left, right = normalised(a.inputs), normalised(b.inputs)
        assert left.months == right.months
        assert by_staff_id(left) == by_staff_id(right)
        assert left.baseline == right.baseline
        assert left.audit_months == right.audit_months
        assert left.recent_incidents == right.recent_incidents
        assert left.starters == right.starters
        assert left.first_reference_month == right.first_reference_month
        assert left == right
        scopes = [list(a.services)] + [[s] for s in a.services]
        for scope in scopes:
            assert a.evaluate(scope) == b.evaluate(scope)


async def rollup_rows(
    conn: asyncpg.Connection, organisation_id: uuid.UUID
) -> dict[str, set[tuple[Any, ...]]]:
    """Every rollup row with a count in it, without its timestamp."""
    out = {}
    for table in ("status_month_rollup", "status_service_month", "status_staff_month", "status_audit_month"):
        rows = await conn.fetch(f"SELECT * FROM {table} WHERE organisation_id = $1", organisation_id)
        out[table] = {
            tuple(tuple(v) if isinstance(v, list) else v for k, v in r.items() if k != "updated_at")
            for r in rows
            if any(v for k, v in r.items() if isinstance(v, int) and not isinstance(v, bool))
        }
    return out


async def rollups_equal_a_rebuild(conn: asyncpg.Connection, organisation_id: uuid.UUID) -> bool:
    """Whether the rollups the triggers kept equal what `status_rebuild_rollups` recounts from raw
    rows (the recount is rolled back)."""
    kept = await rollup_rows(conn, organisation_id)
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.fetchval("SELECT status_rebuild_rollups($1)", organisation_id)
        rebuilt = await rollup_rows(conn, organisation_id)
    finally:
        await transaction.rollback()
    return kept == rebuilt
