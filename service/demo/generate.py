"""Build the demo plan: the same seed and anchor always give the same plan, to the last fact."""

from datetime import date

from service.demo import cast, delivery, onboarding, oversight, voice
from service.demo.calendar import default_anchor
from service.demo.context import DemoContext
from service.demo.plan import DemoPlan

DEFAULT_SEED = 20260127
DEFAULT_DAYS = 365


def build_plan(*, seed: int = DEFAULT_SEED, anchor: date | None = None, days: int = DEFAULT_DAYS) -> DemoPlan:
    """A year (or `days`) of Riverside Care's delivery, ending at the start of `anchor` (default today)."""
    ctx = DemoContext(seed=seed, anchor=anchor or default_anchor(), days=days)
    delivery.generate(ctx)
    oversight.generate(ctx)
    onboarding.generate(ctx)
    voice.generate(ctx)
    touchpoints = sorted(ctx.touchpoints, key=lambda t: (t.occurred_at, t.source_system, t.external_id))
    return DemoPlan(
        seed=seed,
        anchor=ctx.anchor,
        provider_name=cast.PROVIDER_NAME,
        commissioner_name=cast.COMMISSIONER_NAME,
        regulator_name=cast.REGULATOR_NAME,
        services=ctx.services,
        staff=ctx.staff,
        innovations=ctx.innovations,
        touchpoints=tuple(touchpoints),
    )
