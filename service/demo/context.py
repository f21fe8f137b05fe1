"""What every demo generator shares: the cast, the calendar, the stories and the growing plan."""

import random
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from service.demo import cast, stories
from service.demo.calendar import anchor_instant, works_on
from service.demo.plan import ServicePlan, StaffPlan, TouchpointPlan
from service.vocabulary import Shift, StaffRole, TouchpointKind

CARE_ROLES = frozenset(
    {StaffRole.care_worker, StaffRole.senior_carer, StaffRole.team_leader, StaffRole.nurse}
)
SENIOR_ROLES = frozenset({StaffRole.senior_carer, StaffRole.team_leader, StaffRole.nurse})
LEADER_ROLES = frozenset({StaffRole.team_leader, StaffRole.deputy_manager})


class DemoContext:
    def __init__(self, *, seed: int, anchor: date, days: int) -> None:
        self.seed = seed
        self.anchor = anchor
        self.first_day = anchor - timedelta(days=days)
        self.start_instant = anchor_instant(self.first_day)
        self.end_instant = anchor_instant(anchor)
        self.services: tuple[ServicePlan, ...] = cast.SERVICES
        self.staff: tuple[StaffPlan, ...] = cast.staff(anchor)
        self.innovations = cast.innovations(anchor)
        self.stories = stories.build(anchor)
        self.touchpoints: list[TouchpointPlan] = []
        # Follow-up observations planned by post-incident reviews: (service, review day, incident shift).
        self.follow_ups: list[tuple[str, date, Shift]] = []
        self._serials: Counter[str] = Counter()
        self._rota_index = {s.external_ref: i for i, s in enumerate(self.staff)}
        self.by_ref = {s.external_ref: s for s in self.staff}

    def rng(self, stream: str) -> random.Random:
        """An independent, seeded stream per generator, so changing one leaves the others' data alone."""
        return random.Random(f"{self.seed}:{stream}")

    # --- people -------------------------------------------------------------------------------

    def team(
        self,
        service_key: str,
        day: date,
        *,
        shift: Shift | None = None,
        roles: frozenset[StaffRole] | None = None,
    ) -> list[StaffPlan]:
        return [
            s
            for s in self.staff
            if s.service_key == service_key
            and s.active_on(day)
            and (shift is None or s.shift == shift)
            and (roles is None or s.role in roles)
        ]

    def on_shift(
        self, service_key: str, day: date, shift: Shift, roles: frozenset[StaffRole] = CARE_ROLES
    ) -> list[StaffPlan]:
        """Who is rostered on; when nobody is, the shift's regular staff cover it."""
        regulars = self.team(service_key, day, shift=shift, roles=roles)
        if shift is Shift.night:
            # A night shift runs into the next morning: whoever works it is still employed then.
            regulars = [s for s in regulars if s.active_on(day + timedelta(days=1))]
        rostered = [s for s in regulars if works_on(s, day, self._rota_index[s.external_ref])]
        return rostered or regulars

    def manager(self, service_key: str, day: date) -> StaffPlan:
        return self.team(service_key, day, roles=frozenset({StaffRole.registered_manager}))[0]

    def supervisor(self, member: StaffPlan, day: date) -> StaffPlan | None:
        """Care staff are supervised by a leader on their own shift, leaders by the registered manager."""
        if member.role is StaffRole.registered_manager:
            return None
        if member.role in (StaffRole.care_worker, StaffRole.senior_carer):
            for candidates in (
                self.team(member.service_key, day, shift=member.shift, roles=LEADER_ROLES),
                self.team(member.service_key, day, roles=frozenset({StaffRole.team_leader})),
            ):
                if candidates:
                    return candidates[0]
        return self.manager(member.service_key, day)

    def leader_on(self, service_key: str, day: date, shift: Shift) -> StaffPlan:
        """Who observes practice on a shift: a leader of that shift, else the registered manager."""
        leaders = self.team(service_key, day, shift=shift, roles=LEADER_ROLES)
        return leaders[0] if leaders else self.manager(service_key, day)

    def starters(self) -> list[StaffPlan]:
        return [s for s in self.staff if s.started_on > self.anchor - timedelta(days=365)]

    # --- stories --------------------------------------------------------------------------------

    def strength(self, innovation_key: str, service_key: str, day: date) -> float:
        return self.stories[innovation_key].strength(service_key, day)

    def referenced(self, rng: random.Random, chances: dict[str, float]) -> tuple[str, ...]:
        """Draw which innovations a record references, each with its own chance, in a stable order."""
        return tuple(key for key, chance in chances.items() if chance > 0 and rng.random() < chance)

    def explains_why(self, rng: random.Random, innovations: tuple[str, ...], shift: Shift) -> bool | None:
        """Could the person explain why? Asked only about the innovations the record references."""
        if not innovations:
            return None
        return rng.random() < min(self.stories[k].explains_why[shift] for k in innovations)

    # --- output ---------------------------------------------------------------------------------

    def add(
        self,
        kind: TouchpointKind,
        *,
        service_key: str,
        occurred_at: datetime,
        shift: Shift,
        recorded_by: StaffPlan,
        source_system: str,
        facts: dict[str, Any] | None = None,
        **fields: Any,
    ) -> TouchpointPlan | None:
        """Append one touchpoint if it falls inside the demo year (the year ends at the anchor)."""
        if not self.start_instant <= occurred_at < self.end_instant:
            return None
        self._serials[kind.value] += 1
        touchpoint = TouchpointPlan(
            kind=kind,
            service_key=service_key,
            occurred_at=occurred_at,
            shift=shift,
            recorded_by=recorded_by.external_ref,
            source_system=source_system,
            external_id=f"{kind.value.replace('_', '-')}-{self._serials[kind.value]:06d}",
            facts=facts or {},
            **fields,
        )
        self.touchpoints.append(touchpoint)
        return touchpoint


def clamp_score(value: float) -> int:
    return max(1, min(5, round(value)))
