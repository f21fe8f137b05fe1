"""Staff voice: NoMAD questionnaires about each innovation, in three waves through the year."""

import random
from datetime import timedelta

from service.demo import cast
from service.demo.calendar import during_shift
from service.demo.context import DemoContext
from service.demo.plan import StaffPlan
from service.demo.stories import Story
from service.vocabulary import StaffRole, TouchpointKind

# Days before the anchor on which each survey wave opens; answers come in over a fortnight.
WAVES = (200, 110, 25)
RESPONSE_RATE = 0.6
# NoMAD's four constructs and their item counts; `ca2` is worded negatively and scored reversed.
CONSTRUCT_ITEMS = {"c": 4, "cp": 4, "ca": 7, "rm": 5}
REVERSED_ITEMS = frozenset({"ca2"})
OPT_OUTS = ("na_role", "na_stage", "na_intervention")
ONBOARDING = frozenset({TouchpointKind.induction, TouchpointKind.shadowing})


def generate(ctx: DemoContext) -> None:
    rng = ctx.rng("staff-voice")
    # Buddying is surveyed among those it involves: its champion, new starters and their buddies.
    involved = {cast.BUDDYING_CHAMPION} | {
        ref
        for t in ctx.touchpoints
        if cast.STRUCTURED_BUDDYING in t.innovations and t.kind in ONBOARDING
        for ref in (t.subject, t.buddy)
        if ref is not None
    }
    for wave in WAVES:
        opens = ctx.anchor - timedelta(days=wave)
        for story in ctx.stories.values():
            # An innovation is surveyed once staff have had two months of it.
            if (opens - story.started_on).days < 60:
                continue
            for member in ctx.staff:
                if (
                    member.service_key not in story.service_keys
                    or not member.active_on(opens)
                    or member.role is StaffRole.registered_manager
                    or (story.key == cast.STRUCTURED_BUDDYING and member.external_ref not in involved)
                    or rng.random() >= RESPONSE_RATE
                ):
                    continue
                day = opens + timedelta(days=rng.randrange(14))
                if not member.active_on(day):
                    continue
                ctx.add(
                    TouchpointKind.staff_survey,
                    service_key=member.service_key,
                    occurred_at=during_shift(day, member.shift, rng),
                    shift=member.shift,
                    recorded_by=member,
                    subject=member.external_ref,
                    source_system=cast.PROVIDER_HUB_SOURCE,
                    innovations=(story.key,),
                    facts=_answers(rng, story, member),
                )


def _answers(rng: random.Random, story: Story, member: StaffPlan) -> dict[str, object]:
    champion = member.external_ref == cast.BUDDYING_CHAMPION and story.key == cast.STRUCTURED_BUDDYING
    normal_now = 9.0 if champion else story.normal_now[member.shift]
    agreement = 4.6 if champion else story.agreement[member.shift]

    def general(mean: float) -> int:
        return max(0, min(10, round(rng.gauss(mean, 1.2))))

    items: dict[str, int | str] = {}
    for construct, count in CONSTRUCT_ITEMS.items():
        for n in range(1, count + 1):
            item = f"{construct}{n}"
            if rng.random() < 0.04:
                items[item] = rng.choice(OPT_OUTS)
                continue
            agreed = max(1, min(5, round(rng.gauss(agreement, 0.8))))
            items[item] = 6 - agreed if item in REVERSED_ITEMS else agreed
    return {
        "general": {
            "familiar": general(min(9.5, normal_now + 1.5)),
            "normal_now": general(normal_now),
            "normal_future": general(min(9.5, normal_now + 1.0)),
        },
        "items": items,
    }
