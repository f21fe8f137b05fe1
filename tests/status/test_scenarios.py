"""The article's situations, each asserting the stage and the indicators that decide it."""

from datetime import date

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from service.staff.models import StaffMember
from service.status.vocabulary import IndicatorKey as K
from service.status.vocabulary import Rag, Stage
from tests.status.scenarios import Practice, build_home, live, new_starter, noon, status_of

FIRST = date(2026, 1, 1)
LAST = date(2026, 6, 14)
AS_OF = noon(date(2026, 6, 15))


def rags(result: object) -> dict[K, Rag]:
    return {k: r.rag for k, r in result.current.indicators.items()}  # type: ignore[attr-defined]


async def test_engagement_embedded_in_planning_handovers_supervision_and_observation(
    session: AsyncSession,
) -> None:
    home = await build_home(session)
    await live(home, Practice(), FIRST, LAST)
    await new_starter(session, home, date(2026, 3, 2))
    _, result = await status_of(session, home, AS_OF, history=6)
    assert set(rags(result).values()) == {Rag.green}
    assert result.current.stage is Stage.embedded
    assert result.current.stage_reasons[0].rule == "green_through_turnover"
    # Green from April (March's window still waited on the starter's competency check).
    assert [p.stage for p in result.history] == [
        Stage.embedding,
        Stage.embedding,
        Stage.embedding,
        Stage.embedding,
        Stage.embedding,
        Stage.embedded,
    ]
    assert result.months_in_stage == 1


async def test_training_only_without_supervision_reinforcement_is_a_pilot(session: AsyncSession) -> None:
    home = await build_home(session)
    training = Practice(
        notes={},
        handovers=False,
        supervision_discusses=False,
        observations={},
        audits=[],
        incident_every=0,
    )
    await live(home, training, FIRST, LAST)
    for day in (date(2026, 4, 6), date(2026, 5, 4), date(2026, 6, 1)):
        await new_starter(session, home, day, competent_after=None)
    _, result = await status_of(session, home, AS_OF)
    assert result.current.stage is Stage.pilot
    assert result.current.stage_reasons[0].rule == "at_most_one_core_system"
    assert rags(result)[K.supervision_reinforcement] is Rag.red
    assert rags(result)[K.system_visibility] is Rag.red
    assert result.current.indicators[K.supervision_reinforcement].numerator == 0


async def test_strong_on_days_absent_on_nights(session: AsyncSession) -> None:
    home = await build_home(session)
    days_only = Practice(notes={"early": 5, "late": 4}, observations={"early": 5, "late": 4})
    await live(home, days_only, FIRST, LAST)
    _, result = await status_of(session, home, AS_OF)
    shift = result.current.indicators[K.shift_consistency]
    assert shift.rag is Rag.red
    assert "not on night" in shift.explanation
    assert result.current.stage is Stage.embedding
    assert "shift_consistency" in result.current.stage_reasons[0].indicators


async def test_a_champion_who_writes_most_records_and_then_leaves(session: AsyncSession) -> None:
    home = await build_home(session)
    await live(home, Practice(), FIRST, date(2026, 3, 31))
    await live(home, Practice(recorders=[0]), date(2026, 4, 1), date(2026, 5, 31))
    await session.execute(
        update(StaffMember)
        .where(StaffMember.id == home.staff[0].id)  # type: ignore[arg-type]
        .values(left_on=date(2026, 5, 31))
    )
    _, while_there = await status_of(session, home, noon(date(2026, 5, 20)))
    assert rags(while_there)[K.person_independence] is Rag.red
    assert while_there.current.stage is Stage.pilot
    assert while_there.current.stage_reasons[0].rule == "dependent_on_individuals"
    _, after = await status_of(session, home, noon(date(2026, 8, 15)))
    assert after.current.stage is Stage.fading
    assert len(after.current.stage_reasons) == 1
    assert after.current.stage_reasons[0].rule == "core_systems_silent"


async def test_new_starters_inducted_and_competent_on_time(session: AsyncSession) -> None:
    home = await build_home(session)
    await live(home, Practice(), FIRST, LAST)
    for day in (date(2026, 1, 12), date(2026, 2, 16), date(2026, 3, 9)):
        await new_starter(session, home, day, inducted_after=5, competent_after=45)
    # One who left in their third week, before either step, is not held against the innovation.
    quitter = await new_starter(session, home, date(2026, 4, 6), inducted_after=None, competent_after=None)
    await session.execute(
        update(StaffMember).where(StaffMember.id == quitter.id).values(left_on=date(2026, 4, 24))  # type: ignore[arg-type]
    )
    _, result = await status_of(session, home, AS_OF)
    turnover = result.current.indicators[K.turnover_resilience]
    assert turnover.rag is Rag.green
    assert (turnover.numerator, turnover.denominator) == (3, 3)
    assert turnover.measures["new_starters"] == 4
    assert result.current.stage is Stage.embedded


async def test_new_starters_who_are_not_inducted_on_time(session: AsyncSession) -> None:
    home = await build_home(session)
    await live(home, Practice(), FIRST, LAST)
    await new_starter(session, home, date(2026, 1, 12))
    await new_starter(session, home, date(2026, 2, 16), inducted_after=45)
    _, result = await status_of(session, home, AS_OF)
    turnover = result.current.indicators[K.turnover_resilience]
    assert (turnover.rag, turnover.numerator, turnover.denominator) == (Rag.red, 1, 2)


async def test_audits_that_swing(session: AsyncSession) -> None:
    home = await build_home(session)
    await live(home, Practice(audits=[92.0, 60.0, 90.0, 58.0]), FIRST, LAST)
    _, result = await status_of(session, home, AS_OF)
    audits = result.current.indicators[K.audit_stability]
    assert audits.rag is Rag.red
    assert audits.measures["max_drop"] == 32
    assert result.current.stage is Stage.embedding
    assert "audit_stability" in result.current.stage_reasons[0].indicators


async def test_incidents_without_reviews(session: AsyncSession) -> None:
    home = await build_home(session)
    await live(home, Practice(incidents_reviewed=False), FIRST, LAST)
    _, result = await status_of(session, home, AS_OF)
    learning = result.current.indicators[K.incident_learning]
    assert learning.rag is Rag.red
    assert learning.numerator == 0 and learning.denominator > 0
    assert result.current.stage is Stage.embedding
    assert "incident_learning" in result.current.stage_reasons[0].indicators
