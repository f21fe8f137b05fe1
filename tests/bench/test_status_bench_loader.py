"""The status benchmark's loader at a tiny size, so it cannot silently drift from the service.

Its rows must be what recording a touchpoint would have stored (checked field by field against the
service's own validation and row building, every kind), and loading them must leave the rollups as
the triggers and the rebuild both count them, and as the raw rows give them to a status.
"""

import json
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from bench.status_cast import DAYS, SERVICES, STAFF, plan_cast
from bench.status_load import Loaded, check_rollups, load_provider
from bench.status_touchpoints import ROW_LAYOUT, TouchpointStream
from service.database import asyncpg_connect_kwargs
from service.services.models import DEFAULT_SHIFT_PATTERN
from service.touchpoints.repository.writes import row_values
from service.touchpoints.shifts import shift_pattern
from service.touchpoints.validation import content_hash
from service.touchpoints.validation.shape import validate_item
from service.vocabulary import TouchpointKind
from tests.status.compare import assert_same, both_paths, rollup_rows

NOW = datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
POSTED_FIELDS = (
    "kind", "service_id", "recorded_by_id", "subject_staff_id", "person_ref_id", "source_system",
    "external_id", "text",
)  # fmt: skip


def posted_item(row: dict[str, Any], innovation_ids: list[uuid.UUID]) -> dict[str, Any]:
    """The touchpoint as a care record system would have posted it, rebuilt from its stored row."""
    item = {name: row[name] for name in POSTED_FIELDS if row[name] is not None}
    item = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in item.items()}
    item["occurred_at"] = row["occurred_at"].isoformat()
    item["innovation_ids"] = [str(i) for i in innovation_ids]
    item["facts"] = json.loads(row["facts"])
    return item


def test_rows_are_what_recording_them_would_store() -> None:
    cast = plan_cast(now=NOW)
    stream = TouchpointStream(cast, 20_000)
    pattern = shift_pattern("Europe/London", DEFAULT_SHIFT_PATTERN)
    per_kind: dict[str, list[tuple[dict[str, Any], list[uuid.UUID]]]] = defaultdict(list)
    for chunk in stream.chunks():
        links: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for _, touchpoint_id, innovation_id in chunk.links:
            links[touchpoint_id].append(innovation_id)
        for values in chunk.touchpoints:
            row = dict(zip(ROW_LAYOUT, values, strict=True))
            if len(per_kind[row["kind"]]) < 40:
                per_kind[row["kind"]].append((row, links[row["id"]]))
    assert set(per_kind) == {k.value for k in TouchpointKind}
    for kind, samples in per_kind.items():
        for row, innovation_ids in samples:
            item = validate_item(posted_item(row, innovation_ids), ())
            assert not isinstance(item, Exception), (kind, item)
            shift, weekend = pattern.locate(item.occurred_at, item.shift)
            expected = row_values(
                item, row["id"], shift=shift.value, weekend=weekend, content_hash=content_hash(item)
            )
            stored = [row[name] for name in ROW_LAYOUT[4:]]
            expected[13] = json.loads(expected[13])
            stored[13] = json.loads(stored[13])
            assert stored == expected, kind
            assert row["occurred_at"] <= row["recorded_at"] <= NOW
    assert sum(stream.kinds.values()) == 20_000
    assert stream.kinds["daily_note"] > 0.75 * 20_000


async def _check_counts(database_url: str, loaded: Loaded) -> None:
    conn = await asyncpg.connect(**asyncpg_connect_kwargs(database_url))
    try:
        org = loaded.organisation_id
        assert await conn.fetchval("SELECT count(*) FROM touchpoint WHERE organisation_id = $1", org) == 2_000
        assert loaded.touchpoints == 2_000 and loaded.rollups["touchpoints"] == 2_000
        assert loaded.rollups["links"] == loaded.links > 500
        assert await conn.fetchval("SELECT count(*) FROM service WHERE organisation_id = $1", org) == SERVICES
        assert (
            await conn.fetchval("SELECT count(*) FROM staff_member WHERE organisation_id = $1", org) == STAFF
        )
        assert await conn.fetchval("SELECT count(*) FROM innovation WHERE organisation_id = $1", org) == 5
        assert await conn.fetchval(
            "SELECT count(*) FROM staff_member WHERE organisation_id = $1 AND left_on IS NOT NULL", org
        ) == len(loaded.cast.leavers)
        span = await conn.fetchrow(
            "SELECT min(occurred_at) AS first, max(occurred_at) AS last"
            " FROM touchpoint WHERE organisation_id = $1",
            org,
        )
        assert (NOW - span["first"]).days >= DAYS - 2 and span["last"] <= NOW
        # The rollups hold what the triggers counted, and a recount from raw rows agrees.
        counted = await rollup_rows(conn, org)
        assert all(counted.values())
        await conn.fetchval("SELECT status_rebuild_rollups($1)", org)
        assert await rollup_rows(conn, org) == counted
        await check_rollups(conn, org)
    finally:
        await conn.close()


async def test_a_small_load_fills_the_rollups_through_the_triggers(
    database_url: str, session: AsyncSession
) -> None:
    loaded = await load_provider(database_url, 2_000, now=NOW, rows_per_chunk=500, analyze=False)
    assert loaded.rollup_mode == "triggers"
    await _check_counts(database_url, loaded)
    # A status read from the rollups equals one recomputed from the raw rows.
    fast, slow = await both_paths(session, loaded.organisation_id, as_of=NOW)
    assert len(fast) == 5
    assert_same(fast, slow)


async def test_a_bulk_load_with_triggers_off_is_recounted(database_url: str) -> None:
    loaded = await load_provider(database_url, 2_000, now=NOW, rollups="rebuild", analyze=False)
    assert loaded.rollup_mode == "rebuild"
    await _check_counts(database_url, loaded)


def test_the_same_seed_gives_the_same_provider() -> None:
    assert plan_cast(now=NOW) == plan_cast(now=NOW)
    first = next(TouchpointStream(plan_cast(now=NOW), 500).chunks())
    again = next(TouchpointStream(plan_cast(now=NOW), 500).chunks())
    assert first.touchpoints == again.touchpoints
