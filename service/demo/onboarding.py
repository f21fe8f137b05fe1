"""New starters: induction, shadowing a buddy, early supervision and competency checks.

Before structured buddying, starters shadow whoever is on shift. Once it starts, the champion
runs it: she inducts, keeps the shadowing log, does the early supervisions and signs off competence.
"""

import random
from datetime import date, timedelta

from service.demo import cast, stories
from service.demo.calendar import during_shift
from service.demo.context import SENIOR_ROLES, DemoContext
from service.demo.oversight import observe, supervise
from service.demo.plan import StaffPlan
from service.vocabulary import Shift, TouchpointKind

PE, DE, SB = cast.PROACTIVE_ENGAGEMENT, cast.DEESCALATION_REFLECTION, cast.STRUCTURED_BUDDYING
HUB = cast.PROVIDER_HUB_SOURCE


def generate(ctx: DemoContext) -> None:
    rng = ctx.rng("onboarding")
    champion = ctx.by_ref[cast.BUDDYING_CHAMPION]
    for starter in ctx.starters():
        _onboard(ctx, rng, starter, champion)


def _onboard(ctx: DemoContext, rng: random.Random, starter: StaffPlan, champion: StaffPlan) -> None:
    start = starter.started_on
    service_key = starter.service_key
    structured = ctx.strength(SB, service_key, start) > 0
    buddy = _buddy(ctx, rng, starter, champion, structured)
    leads = champion if structured and rng.random() < stories.CHAMPION_ONBOARDING_SHARE else None
    covered = tuple(key for key in (PE, DE, SB) if ctx.strength(key, service_key, start) > 0)

    ctx.add(
        TouchpointKind.induction,
        service_key=service_key,
        occurred_at=during_shift(start, Shift.early, rng, to_minute=120),
        shift=Shift.early,
        recorded_by=leads or ctx.manager(service_key, start),
        subject=starter.external_ref,
        source_system=HUB,
        innovations=covered,
        buddy=buddy.external_ref if buddy else None,
    )
    for n in range(4 if structured else 2):
        day = start + timedelta(days=1 + 3 * n + rng.randint(0, 1))
        keeps_log = champion if structured and rng.random() < 0.75 else buddy
        ctx.add(
            TouchpointKind.shadowing,
            service_key=service_key,
            occurred_at=during_shift(day, starter.shift, rng),
            shift=starter.shift,
            recorded_by=keeps_log or ctx.manager(service_key, day),
            subject=starter.external_ref,
            source_system=HUB,
            innovations=tuple(k for k in (SB, PE) if ctx.strength(k, service_key, day) > 0),
            buddy=buddy.external_ref if buddy else None,
        )
    for offset in (7, 28):
        day = start + timedelta(days=offset + rng.randint(0, 3))
        supervisor = (
            champion if structured and rng.random() < 0.8 else ctx.supervisor(starter, day) or champion
        )
        supervise(ctx, rng, starter, supervisor, day, buddying=0.95 if supervisor is champion else 0.25)
    _competency(ctx, rng, starter, champion if structured else None)
    if structured:
        observe(
            ctx, rng, service_key, ctx.stories[SB], start + timedelta(days=rng.randint(14, 28)), starter.shift
        )


def _buddy(
    ctx: DemoContext, rng: random.Random, starter: StaffPlan, champion: StaffPlan, structured: bool
) -> StaffPlan | None:
    """Structured buddying names a senior on the starter's shift; before it, anyone experienced."""
    if structured and champion.service_key == starter.service_key and champion.shift == starter.shift:
        return champion
    colleagues = [
        s
        for s in ctx.team(starter.service_key, starter.started_on, shift=starter.shift)
        if s is not starter and (starter.started_on - s.started_on).days > 180
    ]
    seniors = [s for s in colleagues if s.role in SENIOR_ROLES]
    pool = seniors if structured and seniors else colleagues
    return rng.choice(pool) if pool else None


def _competency(ctx: DemoContext, rng: random.Random, starter: StaffPlan, champion: StaffPlan | None) -> None:
    """An early competency check on proactive engagement (signed off by the champion where she runs
    buddying) and, in its services, on de-escalation."""
    day = starter.started_on + timedelta(days=rng.randint(21, 42))
    if ctx.strength(PE, starter.service_key, day) > 0:
        checker = champion or ctx.supervisor(starter, day)
        _check_until_passed(ctx, rng, starter, checker, (PE, SB) if champion else (PE,), day)
    # The de-escalation gap is in what happens on nights afterwards, not in induction.
    day = starter.started_on + timedelta(days=rng.randint(21, 42))
    if ctx.strength(DE, starter.service_key, starter.started_on) > 0:
        _check_until_passed(ctx, rng, starter, ctx.supervisor(starter, day), (DE,), day)


def _check_until_passed(
    ctx: DemoContext,
    rng: random.Random,
    starter: StaffPlan,
    checker: StaffPlan | None,
    innovations: tuple[str, ...],
    day: date,
) -> None:
    """A competency check; a fail is re-checked a fortnight later, still inside the first 60 days."""
    if checker is None:
        return
    for _ in range(2):
        passed = rng.random() < 0.9
        ctx.add(
            TouchpointKind.competency_check,
            service_key=starter.service_key,
            occurred_at=during_shift(day, starter.shift, rng, to_minute=180),
            shift=starter.shift,
            recorded_by=checker,
            subject=starter.external_ref,
            source_system=HUB,
            innovations=innovations,
            facts={"passed": passed, "explains_why": ctx.explains_why(rng, innovations, starter.shift)},
        )
        if passed:
            return
        day += timedelta(days=14)
