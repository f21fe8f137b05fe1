"""The three stories the demo tells, as the chances that each innovation shows up in daily delivery.

- Proactive engagement is close to embedded: referenced in notes, care plans, handovers, supervision,
  weekly observation and monthly audit on every shift, by many hands.
- De-escalation reflection has a night-shift gap: strong on early and late shifts, rarely discussed
  in night staff's supervision, rarely reflected on after night incidents, weak when observed at night.
- Structured buddying leans on a single champion: one team leader inducts, shadows, checks and talks
  about it; take her away and little is left.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from service.demo import cast
from service.demo.plan import InnovationPlan
from service.vocabulary import Shift

E, L, N = Shift.early, Shift.late, Shift.night


def by_shift(early: float, late: float, night: float) -> dict[Shift, float]:
    return {E: early, L: late, N: night}


@dataclass(frozen=True)
class Story:
    key: str
    started_on: date
    service_keys: tuple[str, ...]
    # Days after the start at which it reaches each service (piloted in one service first).
    rollout_days: dict[str, int]
    # Days from reaching a service to full strength there.
    ramp_days: int
    note_reference: dict[Shift, float]
    care_plan_reference: float
    handover_reference: dict[Shift, float]
    meeting_reference: float
    # By the supervisee's usual shift.
    supervision_reference: dict[Shift, float]
    explains_why: dict[Shift, float]
    # Mean observed practice and engagement quality, 1–5.
    practice_quality: dict[Shift, float]
    # Days between practice observations in a service, per shift (0: none scheduled).
    observation_every: dict[Shift, int]
    audit_tool: str
    audit_every: int
    audit_mean: float
    audit_spread: float
    # Points gained per month since the start (a settling practice audits a little better each month).
    audit_trend: float
    # Steady audits never fall twice running; unsteady ones vary at random.
    audit_steady: bool
    # Post-incident reviews that reflect on it, by the incident's shift.
    review_reference: dict[Shift, float]
    # NoMAD: mean of "is it a normal part of your work now" (0–10) and of the agreement items (1–5).
    normal_now: dict[Shift, float]
    agreement: dict[Shift, float]

    def strength(self, service_key: str, day: date) -> float:
        """0 before it reaches the service, rising to 1 over its ramp."""
        if service_key not in self.service_keys:
            return 0.0
        reached = self.started_on + timedelta(days=self.rollout_days.get(service_key, 0))
        if day < reached:
            return 0.0
        return min(1.0, ((day - reached).days + 1) / self.ramp_days)


def build(anchor: date) -> dict[str, Story]:
    plans = {i.key: i for i in cast.innovations(anchor)}
    stories = (
        _proactive_engagement(plans[cast.PROACTIVE_ENGAGEMENT]),
        _deescalation_reflection(plans[cast.DEESCALATION_REFLECTION]),
        _structured_buddying(plans[cast.STRUCTURED_BUDDYING]),
    )
    return {story.key: story for story in stories}


def _proactive_engagement(plan: InnovationPlan) -> Story:
    """Embedded across the house and, after their rollouts, Millbrook and home care."""
    return Story(
        key=plan.key,
        started_on=plan.started_on,
        service_keys=plan.service_keys,
        rollout_days={cast.HOUSE: 0, cast.MILLBROOK: 45, cast.HOMECARE: 60},
        ramp_days=45,
        note_reference=by_shift(0.9, 0.9, 0.85),
        care_plan_reference=0.95,
        handover_reference=by_shift(0.85, 0.85, 0.8),
        meeting_reference=0.95,
        supervision_reference=by_shift(0.93, 0.93, 0.9),
        explains_why=by_shift(0.9, 0.9, 0.88),
        practice_quality=by_shift(4.1, 4.0, 3.9),
        observation_every={E: 21, L: 21, N: 21},
        audit_tool="Engagement planning audit",
        audit_every=30,
        audit_mean=84.0,
        audit_spread=1.5,
        audit_trend=0.4,
        audit_steady=True,
        review_reference=by_shift(1.0, 1.0, 1.0),
        normal_now=by_shift(8.2, 8.0, 7.6),
        agreement=by_shift(4.2, 4.2, 4.0),
    )


def _deescalation_reflection(plan: InnovationPlan) -> Story:
    """Strong on days, thin on nights: the night-gap story."""
    return Story(
        key=plan.key,
        started_on=plan.started_on,
        service_keys=plan.service_keys,
        rollout_days={cast.HOUSE: 0, cast.MILLBROOK: 30},
        ramp_days=45,
        note_reference=by_shift(0.25, 0.28, 0.03),
        care_plan_reference=0.5,
        handover_reference=by_shift(0.6, 0.65, 0.06),
        meeting_reference=0.85,
        supervision_reference=by_shift(0.9, 0.9, 0.15),
        explains_why=by_shift(0.86, 0.84, 0.4),
        practice_quality=by_shift(4.1, 4.0, 2.4),
        observation_every={E: 20, L: 20, N: 30},
        audit_tool="Positive behaviour support audit",
        audit_every=30,
        audit_mean=77.0,
        audit_spread=2.0,
        audit_trend=0.1,
        audit_steady=True,
        review_reference=by_shift(1.0, 1.0, 0.9),
        normal_now=by_shift(7.0, 7.0, 3.2),
        agreement=by_shift(3.9, 3.9, 2.8),
    )


def _structured_buddying(plan: InnovationPlan) -> Story:
    """A champion's project: hardly mentioned outside their own handovers."""
    return Story(
        key=plan.key,
        started_on=plan.started_on,
        service_keys=plan.service_keys,
        rollout_days={},
        ramp_days=30,
        note_reference=by_shift(0.0, 0.0, 0.0),
        care_plan_reference=0.0,
        # Outside the champion's own handovers it is hardly mentioned.
        handover_reference=by_shift(0.005, 0.005, 0.0),
        meeting_reference=0.3,
        supervision_reference=by_shift(0.04, 0.04, 0.02),
        explains_why=by_shift(0.75, 0.7, 0.6),
        practice_quality=by_shift(3.8, 3.6, 3.4),
        observation_every={E: 0, L: 0, N: 0},
        audit_tool="Induction file audit",
        audit_every=90,
        audit_mean=74.0,
        audit_spread=4.0,
        audit_trend=0.0,
        audit_steady=False,
        review_reference=by_shift(0.0, 0.0, 0.0),
        normal_now=by_shift(4.5, 4.0, 3.0),
        agreement=by_shift(3.3, 3.2, 3.0),
    )


# The champion's own handovers mention buddying this often while the innovation is active.
CHAMPION_HANDOVER_REFERENCE = 0.55
# How often the champion, rather than the starter's own supervisor or buddy, records their onboarding.
CHAMPION_ONBOARDING_SHARE = 0.85
