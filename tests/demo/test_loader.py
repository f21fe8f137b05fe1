"""Loading the demo into a real database through the ingestion code, once, and identically twice."""

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.auth.tokens import verify_hs256_token
from service.database import create_engine, create_session_factory
from service.demo.generate import build_plan
from service.demo.loader import DemoLoadError, load_demo, load_demo_if_empty
from service.demo.plan import DemoPlan
from service.settings import Settings
from service.touchpoints.repository.reads import visible_touchpoints
from service.vocabulary import Role, TouchpointKind
from tests.conftest import TEMPLATE, _admin, _with_database

ANCHOR = date(2026, 11, 27)

STORED = """
SELECT t.source_system, t.external_id, t.kind, t.shift, t.occurred_at, t.facts, t.text,
       s.external_ref AS service, rb.external_ref AS recorded_by, subj.external_ref AS subject,
       p.external_ref AS person, buddy.external_ref AS buddy, incident.external_id AS incident,
       coalesce((SELECT array_agg(i.external_ref ORDER BY i.external_ref)
                 FROM touchpoint_innovation ti
                 JOIN innovation i
                   ON i.organisation_id = ti.organisation_id AND i.id = ti.innovation_id
                 WHERE ti.organisation_id = t.organisation_id AND ti.touchpoint_id = t.id),
                '{}') AS innovations
FROM touchpoint t
JOIN organisation o ON o.id = t.organisation_id AND o.name = :provider
JOIN service s ON s.organisation_id = t.organisation_id AND s.id = t.service_id
JOIN staff_member rb ON rb.organisation_id = t.organisation_id AND rb.id = t.recorded_by_id
LEFT JOIN staff_member subj ON subj.organisation_id = t.organisation_id AND subj.id = t.subject_staff_id
LEFT JOIN person_ref p ON p.organisation_id = t.organisation_id AND p.id = t.person_ref_id
LEFT JOIN staff_member buddy ON buddy.organisation_id = t.organisation_id AND buddy.id = t.buddy_id
LEFT JOIN touchpoint incident ON incident.organisation_id = t.organisation_id AND incident.id = t.incident_id
ORDER BY t.source_system, t.external_id
"""


async def stored_fingerprint(factory: async_sessionmaker[AsyncSession], provider: str) -> tuple[int, str]:
    """Row count and sha256 of every stored touchpoint with ids replaced by the references they name."""
    async with factory() as session:
        rows = (await session.execute(text(STORED), {"provider": provider})).mappings().all()
    digest = hashlib.sha256()
    for row in rows:
        record: dict[str, Any] = dict(row)
        facts = dict(record["facts"])
        # Ids differ from database to database; the references they stand for must not.
        facts.pop("buddy_id", None)
        facts.pop("incident_id", None)
        record["facts"] = facts
        record["occurred_at"] = record["occurred_at"].isoformat()
        digest.update(json.dumps(record, sort_keys=True, default=str).encode())
    return len(rows), digest.hexdigest()


def expected_from_plan(plan: DemoPlan) -> dict[tuple[str, str], dict[str, Any]]:
    innovations = {i.key: i.external_ref for i in plan.innovations}
    services = {s.key: s.external_ref for s in plan.services}
    return {
        (t.source_system, t.external_id): {
            "kind": t.kind.value,
            "shift": t.shift.value,
            "occurred_at": t.occurred_at,
            "service": services[t.service_key],
            "recorded_by": t.recorded_by,
            "subject": t.subject,
            "person": t.person_ref,
            "buddy": t.buddy,
            "incident": t.incident,
            "innovations": sorted(innovations[k] for k in t.innovations),
        }
        for t in plan.touchpoints
    }


@pytest.fixture
async def second_factory(
    server_url: str, template_url: str
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Another fresh database cloned from the migrated template, for a second load."""
    name = f"ingrain_t_{uuid.uuid4().hex[:12]}"
    conn = await _admin(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    finally:
        await conn.close()
    engine = create_engine(_with_database(server_url, name), pool_size=2)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()
        conn = await _admin(server_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def test_first_start_loads_the_demo_once_and_prints_a_token_per_role(
    session_factory: async_sessionmaker[AsyncSession], settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    loaded = await load_demo_if_empty(session_factory, settings)
    assert loaded is not None
    plan = loaded.plan
    assert loaded.created == len(plan.touchpoints) and loaded.duplicates == 0

    printed = capsys.readouterr().out
    assert plan.provider_name in printed and str(loaded.ids.provider_id) in printed
    principals = {}
    for role in Role:
        line = next(line for line in printed.splitlines() if line.strip().startswith(role.value + " "))
        principals[role] = verify_hs256_token(settings, line.split()[-1])
        assert principals[role].roles == {role}
    # The care worker sees their own records, the care home's manager that home's, the quality lead all.
    async with session_factory() as session:
        visible: dict[Role, int] = {
            role: await session.scalar(select(func.count()).where(visible_touchpoints(principals[role]))) or 0
            for role in (Role.care_worker, Role.registered_manager, Role.quality_lead)
        }
    assert 0 < visible[Role.care_worker] < visible[Role.registered_manager] < visible[Role.quality_lead]
    assert visible[Role.quality_lead] == len(plan.touchpoints)
    assert await load_demo_if_empty(session_factory, settings) is None
    assert capsys.readouterr().out == ""

    async with session_factory() as session:
        counts: dict[str, int] = dict(
            (
                await session.execute(
                    text(
                        "SELECT 'organisation', count(*) FROM organisation UNION ALL "
                        "SELECT 'service', count(*) FROM service UNION ALL "
                        "SELECT 'staff', count(*) FROM staff_member UNION ALL "
                        "SELECT 'person', count(*) FROM person_ref UNION ALL "
                        "SELECT 'innovation', count(*) FROM innovation UNION ALL "
                        "SELECT 'commissioning', count(*) FROM commissioning_relationship UNION ALL "
                        "SELECT 'grant', count(*) FROM access_grant WHERE starts_on <= current_date "
                        "  AND ends_on >= current_date UNION ALL "
                        "SELECT 'touchpoint', count(*) FROM touchpoint UNION ALL "
                        "SELECT 'link', count(*) FROM touchpoint_innovation"
                    )
                )
            ).all()
        )
    assert counts == {
        "organisation": 3,
        "service": 3,
        "staff": len(plan.staff),
        "person": sum(len(s.person_refs) for s in plan.services),
        "innovation": 3,
        "commissioning": 1,
        "grant": 1,
        "touchpoint": len(plan.touchpoints),
        "link": sum(len(t.innovations) for t in plan.touchpoints),
    }


async def test_stored_touchpoints_are_the_plan_and_tell_its_stories(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    plan = build_plan(anchor=ANCHOR, days=60)
    await load_demo(session_factory, plan)
    expected = expected_from_plan(plan)
    async with session_factory() as session:
        rows = (await session.execute(text(STORED), {"provider": plan.provider_name})).mappings().all()
        by_shift: dict[str, float] = dict(
            (
                await session.execute(
                    text(
                        "SELECT i.external_ref, avg((t.shift = 'night')::int) FROM touchpoint t "
                        "JOIN touchpoint_innovation ti ON ti.organisation_id = t.organisation_id "
                        "  AND ti.touchpoint_id = t.id "
                        "JOIN innovation i ON i.organisation_id = ti.organisation_id "
                        "  AND i.id = ti.innovation_id "
                        "GROUP BY i.external_ref"
                    )
                )
            ).all()
        )
    assert len(rows) == len(expected)
    for row in rows:
        want = expected[(row["source_system"], row["external_id"])]
        # Shifts the care record system left out were placed by the service's shift pattern.
        assert {k: row[k] for k in want} == want, row["external_id"]
    assert by_shift["INN-DE"] < by_shift["INN-PE"] / 3


async def test_the_same_seed_gives_identical_data_in_two_fresh_databases(
    session_factory: async_sessionmaker[AsyncSession],
    second_factory: async_sessionmaker[AsyncSession],
) -> None:
    plan = build_plan(anchor=ANCHOR, days=30)
    again = build_plan(anchor=ANCHOR, days=30)
    first = await load_demo(session_factory, plan)
    second = await load_demo(second_factory, again)
    assert first.ids.provider_id != second.ids.provider_id
    one = await stored_fingerprint(session_factory, plan.provider_name)
    two = await stored_fingerprint(second_factory, plan.provider_name)
    assert one == two
    assert one[0] == len(plan.touchpoints) > 500


async def test_a_forced_second_copy_sits_beside_the_first(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    plan = build_plan(anchor=ANCHOR, days=3)
    first = await load_demo(session_factory, plan)
    second = await load_demo(session_factory, plan, provider_name=f"{plan.provider_name} (2)")
    assert second.created == first.created == len(plan.touchpoints)
    async with session_factory() as session:
        organisations = (
            await session.execute(text("SELECT kind, count(*) FROM organisation GROUP BY kind ORDER BY kind"))
        ).all()
    # The commissioner and regulator are shared; each copy is its own provider.
    assert [tuple(r) for r in organisations] == [("commissioner", 1), ("provider", 2), ("regulator", 1)]


async def test_a_load_refused_part_way_leaves_nothing_behind(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    plan = build_plan(anchor=ANCHOR, days=5)
    note = next(t for t in reversed(plan.touchpoints) if t.kind is TouchpointKind.daily_note)
    broken = replace(note, facts={**note.facts, "engagement_quality": 9})
    plan = replace(plan, touchpoints=tuple(broken if t is note else t for t in plan.touchpoints))
    with pytest.raises(DemoLoadError, match=note.external_id):
        await load_demo(session_factory, plan)
    async with session_factory() as session:
        left = (await session.execute(text("SELECT count(*) FROM organisation"))).scalar_one()
        touchpoints = (await session.execute(text("SELECT count(*) FROM touchpoint"))).scalar_one()
    assert (left, touchpoints) == (0, 0)
