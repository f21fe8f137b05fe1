"""Daily delivery: notes, care plan reviews, handovers, team meetings, incidents and their reviews."""

import random
from datetime import date, timedelta

from service.demo import cast, stories
from service.demo.calendar import SHIFTS, days, during_shift, near_shift_end
from service.demo.context import SENIOR_ROLES, DemoContext, clamp_score
from service.demo.plan import ServicePlan
from service.vocabulary import Shift, StaffRole, TouchpointKind

PE, DE, SB = cast.PROACTIVE_ENGAGEMENT, cast.DEESCALATION_REFLECTION, cast.STRUCTURED_BUDDYING
CARE_RECORDS = cast.CARE_RECORDS_SOURCE
HUB = cast.PROVIDER_HUB_SOURCE

# Chance that a person has a note written on a shift (fewer at night; home care visits fewer still).
NOTE_CHANCE = {
    cast.HOUSE: {Shift.early: 0.85, Shift.late: 0.8, Shift.night: 0.45},
    cast.MILLBROOK: {Shift.early: 0.85, Shift.late: 0.8, Shift.night: 0.45},
    cast.HOMECARE: {Shift.early: 0.9, Shift.late: 0.8, Shift.night: 0.3},
}
ACTIVITIES = {
    Shift.early: ("breakfast chosen and prepared together", "morning walk", "personal care", "gardening"),
    Shift.late: ("baking", "music session", "trip to the shops", "board games", "video call with family"),
    Shift.night: ("settled with a hot drink", "reassurance after waking", "night check", "repositioning"),
}
NOTE_TEXT = (
    "Chose the activity and stayed engaged throughout.",
    "Seemed restless before lunch; offered a walk, which helped.",
    "Enjoyed talking about the garden; plan to do more of this.",
    "Declined the planned activity; offered an alternative later.",
    "Settled well; no concerns.",
)
# Incidents per service per month before proactive engagement, and their shift mix.
INCIDENTS_PER_MONTH = {cast.HOUSE: 7.0, cast.MILLBROOK: 5.0, cast.HOMECARE: 1.5}
INCIDENT_SHIFT = {Shift.early: 0.33, Shift.late: 0.42, Shift.night: 0.25}
RESTRICTIVE_BEFORE = 0.3
# Mean engagement quality (1–5) of a day's activity when nobody planned it: completed, not engaging.
UNPLANNED_QUALITY = 3.0


def generate(ctx: DemoContext) -> None:
    for service in ctx.services:
        _daily_notes(ctx, service)
        _care_plan_reviews(ctx, service)
        _handovers(ctx, service)
        _team_meetings(ctx, service)
        _incidents(ctx, service)


def _daily_notes(ctx: DemoContext, service: ServicePlan) -> None:
    rng = ctx.rng(f"notes:{service.key}")
    pe, de = ctx.stories[PE], ctx.stories[DE]
    for day in days(ctx.first_day, ctx.anchor):
        pe_strength, de_strength = ctx.strength(PE, service.key, day), ctx.strength(DE, service.key, day)
        for shift in SHIFTS:
            team = ctx.on_shift(service.key, day, shift)
            for person in service.person_refs:
                if not team or rng.random() >= NOTE_CHANCE[service.key][shift]:
                    continue
                innovations = ctx.referenced(
                    rng,
                    {
                        PE: pe_strength * pe.note_reference[shift],
                        DE: de_strength * de.note_reference[shift],
                    },
                )
                # Where an innovation is practised, engagement is planned and its quality shows it.
                quality = min(
                    (ctx.stories[k].practice_quality[shift] for k in innovations), default=UNPLANNED_QUALITY
                )
                facts = {
                    "activity": rng.choice(ACTIVITIES[shift]),
                    "engagement_quality": clamp_score(rng.gauss(quality, 0.7)),
                }
                ctx.add(
                    TouchpointKind.daily_note,
                    service_key=service.key,
                    occurred_at=during_shift(day, shift, rng),
                    shift=shift,
                    recorded_by=rng.choice(team),
                    source_system=CARE_RECORDS,
                    person_ref=person,
                    innovations=innovations,
                    facts=facts,
                    text=rng.choice(NOTE_TEXT) if rng.random() < 0.25 else None,
                )


def _care_plan_reviews(ctx: DemoContext, service: ServicePlan) -> None:
    rng = ctx.rng(f"care-plans:{service.key}")
    pe, de = ctx.stories[PE], ctx.stories[DE]
    for person in service.person_refs:
        day = ctx.first_day + timedelta(days=rng.randrange(28))
        while day < ctx.anchor:
            seniors = ctx.on_shift(service.key, day, Shift.early, SENIOR_ROLES) or ctx.on_shift(
                service.key, day, Shift.early
            )
            innovations = ctx.referenced(
                rng,
                {
                    PE: ctx.strength(PE, service.key, day) * pe.care_plan_reference,
                    DE: ctx.strength(DE, service.key, day) * de.care_plan_reference,
                },
            )
            if seniors:
                ctx.add(
                    TouchpointKind.care_plan_review,
                    service_key=service.key,
                    occurred_at=during_shift(day, Shift.early, rng, from_minute=120),
                    shift=Shift.early,
                    recorded_by=rng.choice(seniors),
                    source_system=CARE_RECORDS,
                    person_ref=person,
                    innovations=innovations,
                    facts={"changes_made": rng.random() < 0.4},
                )
            day += timedelta(days=rng.randrange(28, 36))


def _handovers(ctx: DemoContext, service: ServicePlan) -> None:
    rng = ctx.rng(f"handovers:{service.key}")
    pe, de, sb = ctx.stories[PE], ctx.stories[DE], ctx.stories[SB]
    champion = ctx.by_ref[cast.BUDDYING_CHAMPION]
    for day in days(ctx.first_day, ctx.anchor):
        for shift in SHIFTS:
            team = ctx.on_shift(service.key, day, shift)
            if not team:
                continue
            seniors = [s for s in team if s.role in SENIOR_ROLES] or team
            champion_leads = champion in seniors and rng.random() < 0.7
            recorder = champion if champion_leads else rng.choice(seniors)
            buddying = (
                stories.CHAMPION_HANDOVER_REFERENCE if recorder is champion else sb.handover_reference[shift]
            )
            innovations = ctx.referenced(
                rng,
                {
                    PE: ctx.strength(PE, service.key, day) * pe.handover_reference[shift],
                    DE: ctx.strength(DE, service.key, day) * de.handover_reference[shift],
                    SB: ctx.strength(SB, service.key, day) * buddying,
                },
            )
            ctx.add(
                TouchpointKind.shift_handover,
                service_key=service.key,
                occurred_at=near_shift_end(day, shift, rng),
                shift=shift,
                recorded_by=recorder,
                source_system=CARE_RECORDS,
                innovations=innovations,
                facts={"attendees": min(len(team) + 1, rng.randint(2, 5))},
            )


def _team_meetings(ctx: DemoContext, service: ServicePlan) -> None:
    rng = ctx.rng(f"meetings:{service.key}")
    day = ctx.first_day + timedelta(days=rng.randrange(7))
    while day < ctx.anchor:
        meeting_day = day + timedelta(days=(2 - day.weekday()) % 7)  # the Wednesday of that week
        chances = {
            key: ctx.strength(key, service.key, meeting_day) * ctx.stories[key].meeting_reference
            for key in (PE, DE, SB)
        }
        ctx.add(
            TouchpointKind.team_meeting,
            service_key=service.key,
            occurred_at=during_shift(meeting_day, Shift.early, rng, from_minute=360, to_minute=400),
            shift=Shift.early,
            recorded_by=ctx.manager(service.key, meeting_day),
            source_system=HUB,
            innovations=ctx.referenced(rng, chances),
            facts={"attendees": rng.randint(6, 14)},
        )
        day += timedelta(days=28)


def _incidents(ctx: DemoContext, service: ServicePlan) -> None:
    rng = ctx.rng(f"incidents:{service.key}")
    daily_rate = INCIDENTS_PER_MONTH[service.key] / 30.0
    for day in days(ctx.first_day, ctx.anchor):
        # Proactive engagement takes the boredom and frustration out of the day: fewer incidents.
        rate = daily_rate * (1 - 0.45 * ctx.strength(PE, service.key, day))
        if rng.random() >= rate:
            continue
        shift = rng.choices(list(INCIDENT_SHIFT), weights=list(INCIDENT_SHIFT.values()))[0]
        team = ctx.on_shift(service.key, day, shift)
        if not team:
            continue
        de_strength = ctx.strength(DE, service.key, day)
        # Reflection on real incidents reduces restrictive interventions, but only where it happens.
        night_gap = 0.15 if shift is Shift.night else 1.0
        restrictive = RESTRICTIVE_BEFORE * (1 - 0.6 * de_strength * night_gap)
        incident = ctx.add(
            TouchpointKind.incident,
            service_key=service.key,
            occurred_at=during_shift(day, shift, rng),
            shift=shift,
            recorded_by=rng.choice(team),
            source_system=CARE_RECORDS,
            person_ref=rng.choice(service.person_refs),
            facts={
                "severity": rng.choices(["low", "moderate", "high"], weights=[60, 33, 7])[0],
                "restrictive_intervention": rng.random() < restrictive,
            },
        )
        if incident is not None:
            _review(ctx, rng, service, day, shift, incident.external_id)


def _review(
    ctx: DemoContext, rng: random.Random, service: ServicePlan, day: date, shift: Shift, incident: str
) -> None:
    pe, de = ctx.stories[PE], ctx.stories[DE]
    established = ctx.strength(PE, service.key, day) > 0
    if rng.random() >= (0.98 if established else 0.7):
        return
    review_day = day + timedelta(days=rng.randint(1, 9) if established else rng.randint(2, 20))
    reviewer = ctx.manager(service.key, review_day)
    deputies = ctx.team(service.key, review_day, roles=frozenset({StaffRole.deputy_manager}))
    if deputies and rng.random() < 0.4:
        reviewer = deputies[0]
    innovations = ctx.referenced(
        rng,
        {
            PE: ctx.strength(PE, service.key, review_day) * pe.review_reference[shift],
            DE: ctx.strength(DE, service.key, review_day) * de.review_reference[shift],
        },
    )
    follow_up = DE in innovations and rng.random() < 0.75
    ctx.add(
        TouchpointKind.post_incident_review,
        service_key=service.key,
        occurred_at=during_shift(review_day, Shift.early, rng, from_minute=90),
        shift=Shift.early,
        recorded_by=reviewer,
        source_system=HUB,
        innovations=innovations,
        incident=incident,
        facts={
            "learning_captured": rng.random() < (0.97 if innovations else 0.6),
            "follow_up_observation_planned": follow_up,
        },
    )
    if follow_up:
        ctx.follow_ups.append((service.key, review_day, shift))
