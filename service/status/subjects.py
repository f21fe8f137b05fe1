"""What a status is computed about: one innovation of one provider, with its inputs, the thresholds
it is judged against, and the plan of points its months were read for.

`load_subjects` reads the provider's setup, plans each innovation's series once, reads the inputs
the plans need by one of the two paths (service.status.sources.path), and hands each innovation
over ready to evaluate for any set of its services.
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service.status.evaluation.inputs import StatusInputs
from service.status.evaluation.periods import services_timezone
from service.status.evaluation.series import Plan, StatusResult, evaluate, plan
from service.status.sources import provider_setup
from service.status.sources.path import read_inputs
from service.status.sources.provider_setup import InnovationRow, ServiceRow
from service.status.sources.span import LoadRange
from service.status.thresholds import Thresholds, effective_thresholds, sources


@dataclass(frozen=True, slots=True)
class StatusSubject:
    """One innovation of one provider, with its inputs and the thresholds it is judged against."""

    innovation: InnovationRow
    services: dict[uuid.UUID, ServiceRow]
    inputs: StatusInputs
    thresholds: Thresholds
    threshold_sources: dict[str, str]
    window_days: int
    history: int
    # The plan its inputs were loaded for (over all its services): reused by every status over
    # services whose months are labelled in the same time zone.
    plan: Plan

    def evaluate(self, service_ids: Iterable[uuid.UUID], history: int | None = None) -> StatusResult:
        chosen = [s for s in service_ids if s in self.services]
        return evaluate(
            self.inputs,
            self.thresholds,
            chosen,
            tz=services_timezone(self.services[s].info for s in chosen),
            window_days=self.window_days,
            history=history or self.history,
            the_plan=self.plan,
        )


def innovation_plans(
    innovations: Sequence[InnovationRow],
    services: Mapping[uuid.UUID, ServiceRow],
    *,
    as_of: datetime,
    window_days: int,
    history: int,
) -> dict[uuid.UUID, Plan]:
    """Each innovation's series over all its services, planned once."""
    plans = {}
    for innovation in innovations:
        tz = services_timezone(services[s].info for s in innovation.service_ids if s in services)
        plans[innovation.id] = plan(tz, as_of, window_days, innovation.started_on, history)
    return plans


def load_range(plans: Iterable[Plan], *, as_of: datetime) -> LoadRange:
    """The months every plan needs, from the earliest, and their outcomes baselines."""
    firsts = []
    baseline = set()
    for p in plans:
        firsts.append(p.first_month)
        baseline.update(p.baseline_months)
    first = min(firsts) if firsts else as_of.date().replace(day=1)
    return LoadRange(as_of=as_of, first_month=first, baseline_months=tuple(sorted(baseline)))


async def load_subjects(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    innovation_ids: Sequence[uuid.UUID] | None = None,
    *,
    as_of: datetime,
    window_days: int,
    history: int = 1,
    known_at: datetime | None = None,
    recount: bool = False,
) -> list[StatusSubject]:
    """Every requested innovation of the provider (all of them when `innovation_ids` is None)."""
    innovations = await provider_setup.innovations(session, organisation_id, innovation_ids)
    if not innovations:
        return []
    services = await provider_setup.services(session, organisation_id)
    staff = await provider_setup.staff(session, organisation_id)
    provider = await provider_setup.provider_thresholds(session, organisation_id)
    plans = innovation_plans(innovations, services, as_of=as_of, window_days=window_days, history=history)
    load = load_range(plans.values(), as_of=as_of)
    infos = {s: row.info for s, row in services.items()}
    inputs = await read_inputs(
        session,
        organisation_id,
        [i.with_services for i in innovations],
        infos,
        staff,
        load,
        known_at=known_at,
        recount=recount,
    )
    return [
        StatusSubject(
            innovation=i,
            services={s: services[s] for s in i.service_ids if s in services},
            inputs=inputs[i.id],
            thresholds=effective_thresholds(provider, i.thresholds),
            threshold_sources=sources(provider, i.thresholds),
            window_days=window_days,
            history=history,
            plan=plans[i.id],
        )
        for i in innovations
    ]
