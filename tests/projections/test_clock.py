"""Time alone moves statuses: with the clock set and nothing written, the periodic job re-queues
what the turn of the local day may have changed, the workers recompute it, and the change is
announced. Each test reads the state before the clock moves, so none can pass without a change."""

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from service import clock
from service.jobs.worker import requeue_stale_projections
from service.organisations.models import Organisation
from service.services.models import Service
from service.staff.models import StaffMember
from tests import factories
from tests.projections.support import assert_projections_equal_on_read, drain, stored_projections
from tests.status.builders import Ledger, at
from tests.tokens import TokenFactory


@dataclass
class Provider:
    org: Organisation
    home: Service
    staff: list[StaffMember]
    innovation_id: uuid.UUID
    lead: dict[str, str]


async def _provider(session: AsyncSession, tokens: TokenFactory) -> Provider:
    """One care home (in London), four long-serving staff, an innovation begun in January 2026."""
    org = await factories.organisation(session, name="Clockwork Care")
    home = await factories.care_service(session, org, "Oak House")
    staff = [await factories.staff_member(session, org, [home]) for _ in range(4)]
    innovation = await factories.innovation(session, org, [home], started_on=date(2026, 1, 5))
    return Provider(org, home, staff, innovation.id, tokens.headers("quality_lead", org.id))


async def _deliver(
    session: AsyncSession, provider: Provider, first: date, last: date, kinds: tuple[str, ...]
) -> None:
    """Every other day from `first` to `last`, one touchpoint of each kind, staff taking turns."""
    ledger = Ledger(session, provider.org.id)
    day, n = first, 0
    while day <= last:
        for kind in kinds:
            await ledger.add(
                kind,
                provider.home.id,
                at(day, 10 + n % 8),
                innovations=[provider.innovation_id],
                recorded_by=provider.staff[n % 4].id,
                subject=provider.staff[(n + 1) % 4].id,
            )
            n += 1
        day += timedelta(days=2)
    await session.commit()


async def _project(app: Any, client: httpx.AsyncClient, provider: Provider) -> dict[uuid.UUID | None, Any]:
    """Read "now" (storing and queueing the missing projections), let the workers recompute, and
    answer the stored projections by service (None for the provider)."""
    listed = await client.get("/v1/status", headers=provider.lead)
    assert listed.status_code == 200, listed.text
    await drain(app.state.database_url)
    return await _stored(app, provider)


async def _stored(app: Any, provider: Provider) -> dict[uuid.UUID | None, Any]:
    rows = await stored_projections(app.state.database_url, provider.org.id)
    return {r["service_id"]: {**dict(r), "body": json.loads(r["body"])} for r in rows}


def _rag(projection: Any, key: str) -> str:
    return next(i["rag"] for i in projection["body"]["indicators"] if i["key"] == key)


async def _events(client: httpx.AsyncClient, provider: Provider) -> list[dict[str, Any]]:
    feed = await client.get("/v1/events", params={"limit": 200}, headers=provider.lead)
    assert feed.status_code == 200, feed.text
    items: list[dict[str, Any]] = feed.json()["items"]
    return items


async def _clock_moves_to(app: Any, moment: datetime) -> None:
    """Set the clock, run the periodic job as its schedule would, and drain the queue."""
    clock.set_now(moment)
    assert await requeue_stale_projections(app.state.engine) == 1  # the one innovation
    await drain(app.state.database_url)


async def test_a_month_boundary_in_the_service_time_zone_moves_system_visibility(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    provider = await _provider(session, tokens)
    # Care records and supervision reference it in February and March, and then nothing.
    await _deliver(session, provider, date(2026, 2, 10), date(2026, 3, 20), ("daily_note", "supervision"))
    clock.set_now(at(date(2026, 4, 30), 10))
    before = await _project(app, client, provider)
    # In the last three months (February to April) both systems show it in two: amber.
    assert set(before) == {None, provider.home.id}
    assert {_rag(p, "system_visibility") for p in before.values()} == {"amber"}
    assert (
        await assert_projections_equal_on_read(app.state.database_url, client, provider.org.id, provider.lead)
        == 2
    )
    # Later the same local day: nothing to re-queue.
    clock.set_now(at(date(2026, 4, 30), 23))
    assert await requeue_stale_projections(app.state.engine) == 0
    assert await _events(client, provider) == []

    # Half past midnight on 1 May in London, still 30 April in UTC: March to May show it in one month.
    await _clock_moves_to(app, at(date(2026, 5, 1), 0, 30))
    after = await _stored(app, provider)
    assert {_rag(p, "system_visibility") for p in after.values()} == {"red"}
    assert all(after[k]["data_xid"] >= before[k]["data_xid"] for k in before)
    changed = [e for e in await _events(client, provider) if e["data"].get("key") == "system_visibility"]
    assert sorted(
        (e["type"], e["service_id"] or "", e["data"]["before"], e["data"]["after"]) for e in changed
    ) == [
        ("indicator.rag_changed", "", "amber", "red"),
        ("indicator.rag_changed", str(provider.home.id), "amber", "red"),
    ]
    assert (
        await assert_projections_equal_on_read(app.state.database_url, client, provider.org.id, provider.lead)
        == 2
    )


async def test_a_new_starters_induction_deadline_passing_makes_turnover_resilience_red(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    provider = await _provider(session, tokens)
    await _deliver(
        session,
        provider,
        date(2026, 2, 2),
        date(2026, 3, 30),
        ("daily_note", "supervision", "shift_handover"),
    )
    # Started on 2 March, never inducted on the innovation: due by 1 April.
    await factories.staff_member(session, provider.org, [provider.home], started_on=date(2026, 3, 2))
    clock.set_now(at(date(2026, 4, 1), 20))
    before = await _project(app, client, provider)
    assert {_rag(p, "turnover_resilience") for p in before.values()} == {"insufficient_evidence"}
    assert (
        await assert_projections_equal_on_read(app.state.database_url, client, provider.org.id, provider.lead)
        == 2
    )

    await _clock_moves_to(app, at(date(2026, 4, 2), 8))
    after = await _stored(app, provider)
    assert {_rag(p, "turnover_resilience") for p in after.values()} == {"red"}
    changed = [e for e in await _events(client, provider) if e["data"].get("key") == "turnover_resilience"]
    assert sorted(
        (e["service_id"] or "", e["data"]["before"], e["data"]["after"]) for e in changed
    ) == sorted(
        [("", "insufficient_evidence", "red"), (str(provider.home.id), "insufficient_evidence", "red")]
    )
    assert {e["type"] for e in changed} == {"indicator.rag_changed"}
    assert (
        await assert_projections_equal_on_read(app.state.database_url, client, provider.org.id, provider.lead)
        == 2
    )


async def test_sixty_silent_days_make_an_embedding_innovation_fading(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    provider = await _provider(session, tokens)
    # All four core systems reference it from January to the end of March, and then fall silent.
    kinds = ("daily_note", "shift_handover", "supervision", "practice_observation")
    await _deliver(session, provider, date(2026, 1, 6), date(2026, 3, 31), kinds)
    # 30 May: the last 60 days reach back into March.
    clock.set_now(at(date(2026, 5, 30), 12))
    before = await _project(app, client, provider)
    stages_before = {k: p["stage"] for k, p in before.items()}
    assert set(stages_before.values()) <= {"embedding", "embedded", "at_risk"}
    assert (
        await assert_projections_equal_on_read(app.state.database_url, client, provider.org.id, provider.lead)
        == 2
    )

    # 31 May: April and May only, and not one reference in them.
    await _clock_moves_to(app, at(date(2026, 5, 31), 12))
    after = await _stored(app, provider)
    assert {p["stage"] for p in after.values()} == {"fading"}
    changed = [e for e in await _events(client, provider) if e["type"] == "status.stage_changed"]
    assert sorted(
        (e["service_id"] or "", e["data"]["before"], e["data"]["after"]) for e in changed
    ) == sorted((str(k) if k else "", stages_before[k], "fading") for k in before)
    assert (
        await assert_projections_equal_on_read(app.state.database_url, client, provider.org.id, provider.lead)
        == 2
    )


async def test_the_window_start_turning_at_midday_is_recomputed_the_same_day(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    provider = await _provider(session, tokens)
    # Supervision references it only in January; care records from February on.
    await _deliver(session, provider, date(2026, 1, 20), date(2026, 1, 31), ("supervision",))
    await _deliver(session, provider, date(2026, 2, 2), date(2026, 4, 14), ("daily_note",))
    # The 90-day window starts at the month boundary nearest 90 days back: on 16 April that is
    # the middle of January, which a 31-day month reaches at midday, not at midnight.
    clock.set_now(at(date(2026, 4, 16), 10))
    before = await _project(app, client, provider)
    assert {_rag(p, "supervision_reinforcement") for p in before.values()} == {"green"}
    # Later the same local day, past the turn: January has left the window, and its supervisions.
    await _clock_moves_to(app, at(date(2026, 4, 16), 16))
    after = await _stored(app, provider)
    assert {_rag(p, "supervision_reinforcement") for p in after.values()} == {"insufficient_evidence"}
    changed = [
        e for e in await _events(client, provider) if e["data"].get("key") == "supervision_reinforcement"
    ]
    assert sorted(
        (e["service_id"] or "", e["data"]["before"], e["data"]["after"]) for e in changed
    ) == sorted(
        [("", "green", "insufficient_evidence"), (str(provider.home.id), "green", "insufficient_evidence")]
    )
    assert (
        await assert_projections_equal_on_read(app.state.database_url, client, provider.org.id, provider.lead)
        == 2
    )
