"""Statuses across many providers' scopes, for the portfolio: each scope's statuses, when the
projections behind them were computed, and stage changes recomputed from the monthly series."""

import itertools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service.projections import reads as projected
from service.projections.service import serves as serves_projection
from service.scoping import ProviderScope
from service.status.present import reasons_public
from service.status.schemas import InnovationStatuses, StageReasonPublic
from service.status.service import (
    DEFAULT_WINDOW_DAYS,
    check_window,
    innovation_statuses,
    resolve_moments,
    visible_services,
)
from service.status.subjects import load_subjects
from service.status.vocabulary import Stage


async def scoped_statuses(
    *,
    session: AsyncSession,
    scopes: Sequence[ProviderScope],
    window_days: int = DEFAULT_WINDOW_DAYS,
    as_of: datetime | None = None,
) -> dict[uuid.UUID, list[InnovationStatuses]]:
    """For each scope (already the caller's), its innovations' statuses as `list_statuses` answers
    them, by innovation name. "Now" with the default window is served from projections."""
    check_window(window_days)
    moment, _ = resolve_moments(as_of, None)
    found: dict[uuid.UUID, list[InnovationStatuses]] = {}
    for scope in scopes:
        if serves_projection(as_of, None, window_days):
            items = await projected.innovation_statuses(session, scope, None)
        else:
            subjects = await load_subjects(session, scope.provider_id, as_of=moment, window_days=window_days)
            items = [s for s in (innovation_statuses(subject, scope) for subject in subjects) if s]
        found[scope.provider_id] = sorted(items, key=lambda i: (i.innovation_name, i.innovation_id))
    return found


async def projected_versions(
    *, session: AsyncSession, innovations: Sequence[tuple[ProviderScope, uuid.UUID, Sequence[uuid.UUID]]]
) -> dict[tuple[uuid.UUID, str], datetime] | None:
    """When the projections `scoped_statuses` serves for these (scope, innovation, its services)
    were computed, without reading them: what an ETag of the answer is derived from. None when
    one is not stored yet (reading the statuses computes it)."""
    return await projected.versions(session, innovations)


def served_versions(statuses: Iterable[InnovationStatuses]) -> dict[tuple[uuid.UUID, str], datetime | None]:
    """`projected_versions` of statuses already served."""
    return dict(projected.version_of(s) for item in statuses for s in (item.provider, *item.services))


@dataclass(frozen=True, slots=True)
class StageChangeFound:
    innovation_id: uuid.UUID
    innovation_name: str
    service_id: uuid.UUID | None
    month: date
    changed_at: datetime
    from_stage: Stage
    to_stage: Stage
    stage_reasons: list[StageReasonPublic]


async def stage_changes_on_read(
    *,
    session: AsyncSession,
    scope: ProviderScope,
    as_of: datetime,
    window_days: int,
    months: int,
    since: datetime,
) -> list[StageChangeFound]:
    """Each row's stage changes between consecutive monthly points (of `months` ending at `as_of`)
    whose later point ends at or after `since`: what the monthly series says changed, recomputed."""
    check_window(window_days)
    changes: list[StageChangeFound] = []
    subjects = await load_subjects(
        session, scope.provider_id, as_of=as_of, window_days=window_days, history=months
    )
    for subject in subjects:
        service_ids = visible_services(subject, scope)
        if not service_ids:
            continue
        rows: list[tuple[uuid.UUID | None, list[uuid.UUID]]] = [(None, service_ids)]
        rows += [(s, [s]) for s in service_ids]
        for service_id, scope_ids in rows:
            points = subject.evaluate(scope_ids, history=months).history
            for before, after in itertools.pairwise(points):
                if before.stage is after.stage or after.point.end < since:
                    continue
                changes.append(
                    StageChangeFound(
                        innovation_id=subject.innovation.id,
                        innovation_name=subject.innovation.name,
                        service_id=service_id,
                        month=after.point.month,
                        changed_at=after.point.end,
                        from_stage=before.stage,
                        to_stage=after.stage,
                        stage_reasons=reasons_public(after.stage_reasons),
                    )
                )
    return changes
