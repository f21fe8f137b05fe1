"""Edge cases: no data, one service of several, no audits, a leaver mid-window, and month
boundaries in Europe/London as the clocks change."""

from datetime import UTC, date, datetime

from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.staff.models import StaffMember
from service.status.vocabulary import IndicatorKey as K
from service.status.vocabulary import Rag, Stage
from tests import factories
from tests.status.builders import Ledger
from tests.status.compare import assert_same, both_paths
from tests.status.scenarios import Practice, build_home, live, noon, status_of

FIRST = date(2026, 1, 1)
LAST = date(2026, 6, 14)
AS_OF = noon(date(2026, 6, 15))


async def test_no_data_is_not_started_and_never_green(session: AsyncSession) -> None:
    home = await build_home(session)
    _, result = await status_of(session, home, AS_OF, history=3)
    assert result.current.stage is Stage.not_started
    assert result.current.stage_reasons[0].rule == "no_references"
    rags = {r.rag for r in result.current.indicators.values()}
    assert rags <= {Rag.insufficient_evidence, Rag.not_applicable, Rag.red}
    assert result.current.indicators[K.audit_stability].rag is Rag.insufficient_evidence
    assert all(p.stage is Stage.not_started for p in result.history)
    assert result.current.drift.flagged == ()


async def test_one_service_of_several_is_a_pilot_for_the_provider(session: AsyncSession) -> None:
    home = await build_home(session, services=3)
    await live(home, Practice(), FIRST, LAST, service=home.services[0])
    subject, provider = await status_of(session, home, AS_OF)
    assert provider.current.stage is Stage.pilot
    assert [r.rule for r in provider.current.stage_reasons] == ["one_service_of_several"]
    alone = subject.evaluate([home.services[0].id])
    assert alone.current.stage is Stage.embedding
    quiet = subject.evaluate([home.services[1].id])
    assert quiet.current.stage is Stage.not_started
    # The provider is rolled up from the services' counts: one service's supervisions, all of them.
    provider_supervisions = provider.current.indicators[K.supervision_reinforcement].denominator
    assert provider_supervisions == alone.current.indicators[K.supervision_reinforcement].denominator


async def test_a_window_with_no_audits(session: AsyncSession) -> None:
    home = await build_home(session)
    await live(home, Practice(audits=[]), FIRST, LAST)
    _, result = await status_of(session, home, AS_OF)
    audits = result.current.indicators[K.audit_stability]
    assert audits.rag is Rag.insufficient_evidence
    assert audits.denominator == 0
    assert result.current.stage is Stage.embedding
    assert "audit_stability" in result.current.stage_reasons[0].indicators


async def test_a_leaver_mid_window_counts_as_active_and_as_turnover(session: AsyncSession) -> None:
    home = await build_home(session, staff=9)
    # The ninth member of staff never records; they leave in the middle of the window.
    await live(home, Practice(recorders=list(range(8))), FIRST, LAST)
    await session.execute(
        update(StaffMember)
        .where(StaffMember.id == home.staff[8].id)  # type: ignore[arg-type]
        .values(left_on=date(2026, 5, 8))
    )
    _, result = await status_of(session, home, AS_OF)
    people = result.current.indicators[K.person_independence]
    assert people.measures["active_staff"] == 9
    assert people.measures["contributing_staff"] == 8
    assert people.rag is Rag.green
    # No new starters, so turnover_resilience does not apply; the leaver's month is the turnover
    # that three green months must span.
    assert result.current.indicators[K.turnover_resilience].rag is Rag.not_applicable
    assert result.current.stage is Stage.embedded
    # Without anyone leaving, the same practice is not yet shown to survive turnover.
    steady = await build_home(session, staff=9)
    await live(steady, Practice(recorders=list(range(8))), FIRST, LAST)
    _, unchanged = await status_of(session, steady, AS_OF)
    assert unchanged.current.stage is Stage.embedding


async def test_months_follow_europe_london_across_the_clock_change(session: AsyncSession) -> None:
    org = await factories.organisation(session)
    london = await factories.care_service(session, org, "London")
    utc = await factories.care_service(session, org, "Reykjavik", timezone="UTC")
    innovation = await factories.innovation(session, org, [london, utc], started_on=date(2026, 1, 1))
    ledger = Ledger(session, org.id)
    # 23:30 UTC on 31 March is 00:30 on 1 April in London (British Summer Time since 29 March).
    late_march = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    for service in (london, utc):
        await ledger.add("daily_note", service.id, late_march, innovations=[innovation.id])
    # 23:30 UTC on 31 October is 23:30 in London again (summer time ended on 25 October).
    await ledger.add(
        "daily_note", london.id, datetime(2026, 10, 31, 23, 30, tzinfo=UTC), innovations=[innovation.id]
    )
    await session.commit()
    months = {
        (r.service_id, r.month): r.refs_total
        for r in await session.execute(
            text("SELECT service_id, month, refs_total FROM status_month_rollup WHERE organisation_id = :o"),
            {"o": org.id},
        )
    }
    assert months == {
        (london.id, date(2026, 4, 1)): 1,
        (utc.id, date(2026, 3, 1)): 1,
        (london.id, date(2026, 10, 1)): 1,
    }
    # As of a quarter of an hour into April in London the note has not happened yet; by 00:45 it
    # has, and it counts in April (read raw), while March's month point never sees it.
    for as_of, april_notes in (
        (datetime(2026, 3, 31, 23, 15, tzinfo=UTC), 0),
        (datetime(2026, 3, 31, 23, 45, tzinfo=UTC), 1),
        (datetime(2026, 4, 20, tzinfo=UTC), 1),
    ):
        fast, slow = await both_paths(session, org.id, as_of=as_of, history=2)
        assert_same(fast, slow)
        counts = fast[0].inputs.months.get((london.id, date(2026, 4, 1)))
        assert (counts.refs_total if counts else 0) == april_notes
        result = fast[0].evaluate([london.id], history=2)
        assert result.history[0].point.month == date(2026, 3, 1)
        assert result.history[0].point.end == datetime(2026, 3, 31, 23, 0, tzinfo=UTC)
