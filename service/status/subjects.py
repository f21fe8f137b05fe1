"""Loading what statuses need, by either path, for one provider's innovations.

The fast path (rollups plus the current month's rows) answers every ordinary request. The
reference path (every raw row, in Python) answers `known_at` and is what the property test
compares the fast path with.
"""

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.status.evaluation.inputs import REVIEW_WITHIN_DAYS, ServiceInfo, StaffTenure, StatusInputs
from service.status.evaluation.periods import local_month, month_end_at, month_start_at
from service.status.evaluation.recount import LoadRange, inputs_from_records
from service.status.evaluation.series import StatusResult, evaluate, plan
from service.status.sources import provider_setup
from service.status.sources.provider_setup import InnovationRow, ServiceRow
from service.status.sources.records import RecordSelection, earliest_references, load_records
from service.status.sources.rollups import load_rollup_inputs
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

    def evaluate(self, service_ids: Iterable[uuid.UUID], history: int | None = None) -> StatusResult:
        scope = [s for s in service_ids if s in self.services]
        return evaluate(
            self.inputs,
            self.thresholds,
            scope,
            tz=scope_timezone(self.services[s].info for s in scope),
            window_days=self.window_days,
            history=history or self.history,
        )


def scope_timezone(infos: Iterable[ServiceInfo]) -> str:
    """The time zone a scope's months are labelled in: its services' most common one."""
    counted = Counter(i.timezone for i in infos)
    if not counted:
        return "Europe/London"
    return min(counted, key=lambda tz: (-counted[tz], tz))


def load_range(
    innovations: Sequence[InnovationRow],
    services: Mapping[uuid.UUID, ServiceRow],
    *,
    as_of: datetime,
    window_days: int,
    history: int,
) -> LoadRange:
    firsts = []
    baseline: set[Any] = set()
    for innovation in innovations:
        tz = scope_timezone(services[s].info for s in innovation.service_ids if s in services)
        p = plan(tz, as_of, window_days, innovation.started_on, history)
        firsts.append(p.first_month)
        baseline.update(p.baseline_months)
    first = min(firsts) if firsts else as_of.date().replace(day=1)
    return LoadRange(as_of=as_of, first_month=first, baseline_months=tuple(sorted(baseline)))


def record_selection(
    innovations: Sequence[InnovationRow],
    infos: Mapping[uuid.UUID, ServiceInfo],
    staff: Sequence[StaffTenure],
    load: LoadRange,
) -> RecordSelection:
    """The raw rows a status reads: the months it loads (a day either side for time zones), the
    reviews that may follow their incidents, the baseline months, and new starters' steps."""
    zones = {i.timezone for i in infos.values()} or {"UTC"}
    day = timedelta(days=1)
    start = min(month_start_at(load.first_month, tz) for tz in zones) - day
    end = load.as_of + timedelta(days=REVIEW_WITHIN_DAYS) + day
    ranges = [(start, end)]
    if load.baseline_months:
        first, last = min(load.baseline_months), max(load.baseline_months)
        ranges.append(
            (
                min(month_start_at(first, tz) for tz in zones) - day,
                max(month_end_at(last, tz) for tz in zones) + day,
            )
        )
    earliest = min(i.started_on for i in innovations)
    subjects = tuple(s.id for s in staff if s.started_on >= earliest)
    return RecordSelection(ranges=tuple(ranges), subjects=subjects)


async def _inputs_from_raw_rows(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    innovations: Sequence[InnovationRow],
    infos: Mapping[uuid.UUID, ServiceInfo],
    staff: Sequence[StaffTenure],
    load: LoadRange,
    known_at: datetime | None,
) -> dict[uuid.UUID, StatusInputs]:
    """The reference path: the selected raw rows (as known at `known_at`) counted in Python."""
    selection = record_selection(innovations, infos, staff, load)
    records = await load_records(session, organisation_id, selection, known_at=known_at)
    inputs = {i.id: inputs_from_records(records, i.scope, infos, staff, load) for i in innovations}
    # Whether and since when it was ever referenced reaches back before the rows read.
    before = selection.ranges[0][0]
    earliest = await earliest_references(
        session, organisation_id, [i.id for i in innovations], before=before, known_at=known_at
    )
    for (innovation_id, service_id), occurred_at in earliest.items():
        status = inputs[innovation_id]
        if service_id not in status.services:
            continue
        month = local_month(occurred_at, infos[service_id].timezone)
        known = status.first_reference_month.get(service_id)
        if known is None or month < known:
            status.first_reference_month[service_id] = month
    return inputs


async def load_subjects(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    innovation_ids: Sequence[uuid.UUID] | None = None,
    *,
    as_of: datetime,
    window_days: int,
    history: int = 1,
    known_at: datetime | None = None,
    reference: bool = False,
) -> list[StatusSubject]:
    """Every requested innovation of the provider (all of them when `innovation_ids` is None)."""
    innovations = await provider_setup.innovations(session, organisation_id, innovation_ids)
    if not innovations:
        return []
    services = await provider_setup.services(session, organisation_id)
    staff = await provider_setup.staff(session, organisation_id)
    provider = await provider_setup.provider_thresholds(session, organisation_id)
    load = load_range(innovations, services, as_of=as_of, window_days=window_days, history=history)
    infos = {s: row.info for s, row in services.items()}
    if reference or known_at is not None:
        inputs = await _inputs_from_raw_rows(
            session, organisation_id, innovations, infos, staff, load, known_at
        )
    else:
        inputs = await load_rollup_inputs(
            session, organisation_id, [i.scope for i in innovations], infos, staff, load
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
        )
        for i in innovations
    ]
