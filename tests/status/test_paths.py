"""The fast path (rollups + the month's rows) and the recount path (raw rows) agree."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.database import driver_connection
from service.status.sources.rollups import _reads_only, _spare_connections
from tests import factories
from tests.status.builders import Ledger, at
from tests.status.compare import assert_same, both_paths


async def test_a_mixed_history_reads_the_same_both_ways(session: AsyncSession) -> None:
    org = await factories.organisation(session)
    oak = await factories.care_service(session, org, "Oak House")
    elm = await factories.care_service(session, org, "Elm Court", timezone="UTC")
    staff = [await factories.staff_member(session, org, [oak, elm]) for _ in range(3)]
    newcomer = await factories.staff_member(session, org, [oak], started_on=date(2026, 2, 2))
    innovation = await factories.innovation(session, org, [oak, elm], started_on=date(2025, 11, 1))
    other = await factories.innovation(session, org, [oak], name="Buddying", started_on=date(2026, 1, 1))
    ledger = Ledger(session, org.id)
    both = [innovation.id, other.id]
    day = date(2025, 12, 28)
    for i in range(60):
        when = at(day + timedelta(days=i), 8 + (i * 5) % 15)
        service = oak.id if i % 3 else elm.id
        who = staff[i % 3].id
        await ledger.add(
            "daily_note",
            service,
            when,
            innovations=[innovation.id],
            recorded_by=who,
            engagement_quality=1 + i % 5,
        )
        if i % 7 == 0:
            await ledger.add(
                "supervision",
                service,
                when,
                innovations=both if i % 2 else [],
                recorded_by=who,
                subject=staff[(i + 1) % 3].id,
                explains_why=bool(i % 3),
            )
        if i % 11 == 0:
            incident = await ledger.add("incident", service, when, restrictive_intervention=i % 2 == 0)
            if i % 2:
                await ledger.add(
                    "post_incident_review",
                    service,
                    when + timedelta(days=3 + i % 20),
                    innovations=[innovation.id],
                    incident_id=str(incident),
                    learning_captured=i % 5 != 0,
                )
        if i % 13 == 0:
            await ledger.add("audit", service, when, innovations=[innovation.id], score_percent=70 + i % 25)
        if i % 17 == 0:
            await ledger.add("staff_survey", service, when, innovations=[innovation.id], recorded_by=who)
    await ledger.add("induction", oak.id, at(date(2026, 2, 9)), innovations=both, subject=newcomer.id)
    await ledger.add(
        "competency_check", oak.id, at(date(2026, 2, 20)), innovations=[innovation.id], subject=newcomer.id
    )
    # A late arrival for December and a correction that moves a note into another month and service.
    await ledger.add(
        "practice_observation", oak.id, at(date(2025, 12, 30), 23), innovations=[innovation.id], score=2
    )
    moved = await ledger.add("daily_note", oak.id, at(date(2026, 1, 31), 23, 30), innovations=[innovation.id])
    await ledger.correct(moved, occurred_at=at(date(2026, 2, 1), 0, 30), service_id=elm.id)
    await session.commit()
    for as_of in (
        datetime(2026, 2, 24, 12, tzinfo=UTC),
        datetime(2026, 3, 1, tzinfo=UTC),
        at(date(2026, 2, 10)),
    ):
        fast, slow = await both_paths(session, org.id, as_of=as_of, history=4)
        assert_same(fast, slow)


async def test_a_transaction_that_has_written_reads_its_own_rows(session: AsyncSession) -> None:
    """The fast path spreads its reads over a second connection only when that connection would see
    the same rows: never inside a transaction that has written (its rows are not committed)."""
    org = await factories.organisation(session)
    oak = await factories.care_service(session, org, "Oak House")
    innovation = await factories.innovation(session, org, [oak], started_on=date(2026, 1, 1))
    ledger = Ledger(session, org.id)
    for day in (5, 19):
        await ledger.add(
            "audit", oak.id, at(date(2026, 3, day)), innovations=[innovation.id], score_percent=90
        )
        await ledger.add("incident", oak.id, at(date(2026, 3, day), 14))
    await session.commit()
    as_of = datetime(2026, 3, 28, tzinfo=UTC)
    conn = await driver_connection(session)
    assert isinstance(session.bind, AsyncEngine) and _spare_connections(session.bind, 2)
    assert await _reads_only(conn)
    fast, slow = await both_paths(session, org.id, as_of=as_of)
    assert_same(fast, slow)
    assert sum(r.count for r in fast[0].inputs.audit_months.values()) == 2
    assert len(fast[0].inputs.recent_incidents) == 1  # the last 14 days: 19 March

    await ledger.add("audit", oak.id, at(date(2026, 3, 26)), innovations=[innovation.id], score_percent=40)
    await ledger.add("incident", oak.id, at(date(2026, 3, 26), 14))
    assert not await _reads_only(conn)
    fast, slow = await both_paths(session, org.id, as_of=as_of)
    assert_same(fast, slow)
    assert sum(r.count for r in fast[0].inputs.audit_months.values()) == 3
    assert len(fast[0].inputs.recent_incidents) == 2
