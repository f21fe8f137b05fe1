"""Oversight: supervision, competency checks, practice observation, audits and quality reviews."""

import random
from datetime import date, timedelta

from service.demo import cast
from service.demo.calendar import during_shift
from service.demo.context import CARE_ROLES, DemoContext, clamp_score
from service.demo.plan import ServicePlan, StaffPlan
from service.demo.stories import Story
from service.vocabulary import Shift, StaffRole, TouchpointKind

PE, DE, SB = cast.PROACTIVE_ENGAGEMENT, cast.DEESCALATION_REFLECTION, cast.STRUCTURED_BUDDYING
HUB = cast.PROVIDER_HUB_SOURCE
# Regular supervision starts once a new starter's early supervisions (onboarding) are done.
REGULAR_SUPERVISION_AFTER = timedelta(days=56)


def generate(ctx: DemoContext) -> None:
    _supervisions(ctx)
    _deescalation_refreshers(ctx)
    for service in ctx.services:
        _observations(ctx, service, ctx.stories[PE], weekly_rotation=True)
        _observations(ctx, service, ctx.stories[DE], weekly_rotation=False)
        _quality_reviews(ctx, service)
    _follow_up_observations(ctx)
    for story in ctx.stories.values():
        _audits(ctx, story)


def _supervisions(ctx: DemoContext) -> None:
    rng = ctx.rng("supervision")
    for member in ctx.staff:
        if member.role is StaffRole.registered_manager:
            continue
        day = max(
            ctx.first_day - timedelta(days=rng.randrange(35)),
            member.started_on + REGULAR_SUPERVISION_AFTER,
        )
        while day < ctx.anchor and member.active_on(day):
            supervisor = ctx.supervisor(member, day)
            if supervisor is not None and supervisor is not member:
                supervise(ctx, rng, member, supervisor, day)
            day += timedelta(days=rng.randint(28, 42))


def supervise(
    ctx: DemoContext,
    rng: random.Random,
    member: StaffPlan,
    supervisor: StaffPlan,
    day: date,
    *,
    buddying: float | None = None,
) -> None:
    """One supervision, on the supervisee's own shift; `buddying` overrides the buddying story's chance."""
    chances = {
        key: ctx.strength(key, member.service_key, day) * ctx.stories[key].supervision_reference[member.shift]
        for key in (PE, DE)
    }
    chances[SB] = ctx.strength(SB, member.service_key, day) * (
        ctx.stories[SB].supervision_reference[member.shift] if buddying is None else buddying
    )
    innovations = ctx.referenced(rng, chances)
    ctx.add(
        TouchpointKind.supervision,
        service_key=member.service_key,
        occurred_at=during_shift(day, member.shift, rng, to_minute=150),
        shift=member.shift,
        recorded_by=supervisor,
        subject=member.external_ref,
        source_system=HUB,
        innovations=innovations,
        facts={"explains_why": ctx.explains_why(rng, innovations, member.shift)},
    )


def _deescalation_refreshers(ctx: DemoContext) -> None:
    """Once it is established, every care worker in scope has a de-escalation competency check."""
    rng = ctx.rng("de-refreshers")
    story = ctx.stories[DE]
    for member in ctx.staff:
        if member.service_key not in story.service_keys or member.role not in CARE_ROLES:
            continue
        day = story.started_on + timedelta(days=60 + rng.randrange(120))
        supervisor = ctx.supervisor(member, day)
        if not member.active_on(day) or supervisor is None or day >= ctx.anchor:
            continue
        night = member.shift is Shift.night
        ctx.add(
            TouchpointKind.competency_check,
            service_key=member.service_key,
            occurred_at=during_shift(day, member.shift, rng, to_minute=180),
            shift=member.shift,
            recorded_by=supervisor,
            subject=member.external_ref,
            source_system=HUB,
            innovations=(DE,),
            facts={
                "passed": rng.random() < (0.7 if night else 0.93),
                "explains_why": ctx.explains_why(rng, (DE,), member.shift),
            },
        )


def _observations(ctx: DemoContext, service: ServicePlan, story: Story, *, weekly_rotation: bool) -> None:
    """Practice observations: weekly and rotating across shifts, or on each shift's own cadence."""
    if service.key not in story.service_keys:
        return
    rng = ctx.rng(f"observations:{story.key}:{service.key}")
    reached = story.started_on + timedelta(days=story.rollout_days.get(service.key, 0))
    if weekly_rotation:
        schedule = [
            (reached + timedelta(days=7 * (n + 1)), (Shift.early, Shift.late, Shift.night)[n % 3])
            for n in range(400)
        ]
    else:
        schedule = [
            (reached + timedelta(days=14 + every * n + offset), shift)
            for offset, (shift, every) in enumerate(story.observation_every.items())
            if every
            for n in range(400 // every + 1)
        ]
    for day, shift in sorted(schedule):
        if day >= ctx.anchor:
            continue
        observe(ctx, rng, service.key, story, day, shift)


def observe(
    ctx: DemoContext, rng: random.Random, service_key: str, story: Story, day: date, shift: Shift
) -> None:
    team = ctx.on_shift(service_key, day, shift)
    if not team:
        return
    observer = (
        ctx.manager(service_key, day) if shift is Shift.early else ctx.leader_on(service_key, day, shift)
    )
    subject = rng.choice([s for s in team if s is not observer] or team)
    settled = 0.85 + 0.15 * ctx.strength(story.key, service_key, day)
    ctx.add(
        TouchpointKind.practice_observation,
        service_key=service_key,
        occurred_at=during_shift(day, shift, rng),
        shift=shift,
        recorded_by=observer,
        subject=subject.external_ref,
        source_system=HUB,
        innovations=(story.key,),
        facts={
            "score": clamp_score(rng.gauss(story.practice_quality[shift] * settled, 0.6)),
            "explains_why": ctx.explains_why(rng, (story.key,), shift),
        },
    )


def _follow_up_observations(ctx: DemoContext) -> None:
    """The observations post-incident reviews planned, on the shift where the incident happened."""
    rng = ctx.rng("follow-ups")
    story = ctx.stories[DE]
    for service_key, review_day, shift in ctx.follow_ups:
        observe(ctx, rng, service_key, story, review_day + timedelta(days=rng.randint(3, 12)), shift)


def _audits(ctx: DemoContext, story: Story) -> None:
    rng = ctx.rng(f"audits:{story.key}")
    champion = ctx.by_ref[cast.BUDDYING_CHAMPION]
    for service_key in story.service_keys:
        reached = story.started_on + timedelta(days=story.rollout_days.get(service_key, 0))
        day = reached + timedelta(days=story.audit_every)
        audit = 0
        while day < ctx.anchor:
            months = (day - story.started_on).days / 30
            # A settled practice audits steadily: results alternate a little about a gentle rise and
            # never fall twice running; an unsettled one wanders.
            wobble = (
                story.audit_spread * (0.5 if audit % 2 else -0.5)
                + rng.uniform(-0.15, 0.15) * story.audit_spread
                if story.audit_steady
                else rng.gauss(0, story.audit_spread)
            )
            score = story.audit_mean + story.audit_trend * months + wobble
            audit += 1
            # Buddying is audited by its champion; the others by each service's registered manager.
            auditor = champion if story.key == SB else ctx.manager(service_key, day)
            ctx.add(
                TouchpointKind.audit,
                service_key=service_key,
                occurred_at=during_shift(day, Shift.early, rng, from_minute=60),
                shift=Shift.early,
                recorded_by=auditor,
                source_system=HUB,
                innovations=(story.key,),
                facts={"tool": story.audit_tool, "score_percent": round(max(0.0, min(100.0, score)), 1)},
            )
            day += timedelta(days=story.audit_every + rng.randint(-3, 3))


def _quality_reviews(ctx: DemoContext, service: ServicePlan) -> None:
    rng = ctx.rng(f"quality-reviews:{service.key}")
    day = ctx.first_day + timedelta(days=rng.randrange(30, 60))
    while day < ctx.anchor:
        innovations = tuple(key for key in (PE, DE, SB) if ctx.strength(key, service.key, day) >= 0.5)
        ctx.add(
            TouchpointKind.quality_review,
            service_key=service.key,
            occurred_at=during_shift(day, Shift.early, rng, from_minute=60),
            shift=Shift.early,
            recorded_by=ctx.manager(service.key, day),
            source_system=HUB,
            innovations=innovations,
            facts={"score_percent": round(rng.uniform(76, 90), 1), "actions": rng.randint(1, 6)},
        )
        day += timedelta(days=91)
