"""Touchpoints written by the ingestion code itself (single posts, small batches by INSERT, large
ones by COPY, corrections) keep the rollups equal to the raw rows."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.principal import Principal
from service.touchpoints.corrections import correct_touchpoint
from service.touchpoints.ingest import record_touchpoints
from service.vocabulary import Role
from tests import factories
from tests.status.compare import assert_same, both_paths


async def test_rows_written_by_ingestion_count_once(session: AsyncSession) -> None:
    org = await factories.organisation(session)
    oak = await factories.care_service(session, org, "Oak House")
    staff = [await factories.staff_member(session, org, [oak]) for _ in range(3)]
    person = await factories.person(session, org)
    first = await factories.innovation(session, org, [oak], started_on=date(2026, 1, 1))
    second = await factories.innovation(session, org, [oak], name="Buddying", started_on=date(2026, 1, 1))
    principal = Principal(sub="manager", organisation_id=org.id, roles=frozenset({Role.registered_manager}))
    now = datetime.now(UTC)

    def note(days: float, innovations: list[Any]) -> dict[str, Any]:
        return {
            "kind": "daily_note",
            "service_id": str(oak.id),
            "occurred_at": (now - timedelta(days=days)).isoformat(),
            "recorded_by_id": str(staff[int(days) % 3].id),
            "person_ref_id": str(person.id),
            "innovation_ids": [str(i) for i in innovations],
            "facts": {"activity": "Walk", "engagement_quality": 1 + int(days) % 5},
        }

    # One at a time and in small batches (one INSERT for rows and links), then a large batch (COPY).
    single = await record_touchpoints(session=session, principal=principal, items=[note(1, [first.id])])
    small = [note(d, [first.id, second.id]) for d in range(2, 12)]
    await record_touchpoints(session=session, principal=principal, items=small)
    large = [note(d / 10, [second.id]) for d in range(12, 900)]
    await record_touchpoints(session=session, principal=principal, items=large)
    # A correction moves the single note back a month and onto the other innovation.
    moved = single[0].id
    assert moved is not None
    await correct_touchpoint(
        session=session, principal=principal, touchpoint_id=moved, item=note(33, [second.id])
    )
    await session.commit()
    for as_of in (now, now - timedelta(days=20)):
        fast, slow = await both_paths(session, org.id, as_of=as_of)
        assert_same(fast, slow)
        assert sum(c.refs_total for s in fast for c in s.inputs.months.values()) > 0
