"""Embedding status rules for callers: one innovation's status and history, and every status in scope.

REST and GraphQL both call these. They resolve what the caller may see, load the counts (rollups
plus the current month, or raw rows for `known_at`), evaluate, and present — withholding small
counts from commissioners and inspectors.
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service import clock
from service.auth.principal import Principal
from service.errors import InvalidInput, NotFound, ProblemError
from service.moments import CLOCK_SKEW
from service.observability.activity import count_served, status_computation
from service.pagination import Page, cursor_uuid, decode_cursor, encode_cursor
from service.policy import Permission, check
from service.projections import reads as projected
from service.projections.compute import HISTORY_MONTHS
from service.projections.service import serves as serves_projection
from service.scoping import ProviderScope
from service.status.access import innovation_scope, readable_scopes
from service.status.present import history_public, status_public
from service.status.schemas import (
    EmbeddingStatus,
    InnovationStatuses,
    StatusHistory,
)
from service.status.sources import provider_setup
from service.status.subjects import StatusSubject, load_subjects

DEFAULT_WINDOW_DAYS = 90
MIN_WINDOW_DAYS = 28
MAX_WINDOW_DAYS = 730
MAX_HISTORY_MONTHS = 24


def invalid_field(field: str, rule: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", errors=[{"field": field, "rule": rule, "message": message}])


def resolve_moments(as_of: datetime | None, known_at: datetime | None) -> tuple[datetime, datetime | None]:
    """`as_of` defaults to `known_at` (what the status said that day), else now; neither in the future."""
    now = clock.now()
    for name, value in (("as_of", as_of), ("known_at", known_at)):
        if value is not None and value.tzinfo is None:
            raise invalid_field(name, "timezone_required", "give a time zone, e.g. 2026-03-01T00:00:00Z")
        if value is not None and value > now + CLOCK_SKEW:
            raise invalid_field(name, "in_future", "must not be in the future")
    resolved = as_of or known_at or now
    return resolved.astimezone(UTC), known_at.astimezone(UTC) if known_at else None


def check_window(window_days: int) -> None:
    if not MIN_WINDOW_DAYS <= window_days <= MAX_WINDOW_DAYS:
        raise invalid_field(
            "window_days", "out_of_range", f"must be from {MIN_WINDOW_DAYS} to {MAX_WINDOW_DAYS} days"
        )


@dataclass(frozen=True, slots=True)
class Visible:
    subject: StatusSubject
    scope: ProviderScope
    service_ids: list[uuid.UUID]


def visible_services(subject: StatusSubject, scope: ProviderScope) -> list[uuid.UUID]:
    return sorted(
        s for s in subject.innovation.service_ids if s in subject.services and scope.may_see_service(s)
    )


async def _subject(
    session: AsyncSession,
    principal: Principal,
    innovation_id: uuid.UUID,
    *,
    as_of: datetime,
    window_days: int,
    history: int = 1,
    known_at: datetime | None = None,
) -> Visible:
    scope = await innovation_scope(session, principal, innovation_id, as_of=as_of)
    subjects = await load_subjects(
        session,
        scope.provider_id,
        [innovation_id],
        as_of=as_of,
        window_days=window_days,
        history=history,
        known_at=known_at,
    )
    if not subjects:
        raise NotFound(f"no innovation {innovation_id}")
    service_ids = visible_services(subjects[0], scope)
    if not service_ids:
        raise NotFound(f"no innovation {innovation_id}")
    return Visible(subjects[0], scope, service_ids)


def _one_service(visible: Visible, service_id: uuid.UUID | None) -> list[uuid.UUID]:
    if service_id is None:
        return visible.service_ids
    if service_id in visible.service_ids:
        return [service_id]
    if service_id in visible.subject.innovation.service_ids:
        raise NotFound(f"no service {service_id}")  # in scope of the innovation, but not of the caller
    raise _not_in_scope()


def _not_in_scope() -> InvalidInput:
    message = "is not a service this innovation is in scope of for you"
    return invalid_field("service_id", "not_in_scope", message)


async def innovation_status(
    *,
    session: AsyncSession,
    principal: Principal,
    innovation_id: uuid.UUID,
    service_id: uuid.UUID | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
    read: AsyncSession | None = None,
) -> EmbeddingStatus:
    """The status of one innovation for one service or, without `service_id`, the provider.

    `read`, a session on the read replica, does the reading when given; `session` what must write."""
    check(principal, Permission.status_read)
    check_window(window_days)
    moment, known = resolve_moments(as_of, known_at)
    if serves_projection(as_of, known_at, window_days):
        return await projected.innovation_status(
            session=session,
            read=read,
            principal=principal,
            innovation_id=innovation_id,
            service_id=service_id,
            invalid_service=_not_in_scope(),
        )
    with status_computation("on_read") as computation:
        visible = await _subject(
            read or session, principal, innovation_id, as_of=moment, window_days=window_days, known_at=known
        )
        service_ids = _one_service(visible, service_id)
        result = visible.subject.evaluate(service_ids)
        computation.statuses = 1
    count_served("computed")
    return status_public(
        visible.subject,
        result,
        service_ids=service_ids,
        service_id=service_id,
        external=visible.scope.is_external,
        known_at=known,
    )


@dataclass(frozen=True, slots=True)
class StatusRequest:
    """One status asked for in a batch: the arguments of `innovation_status`."""

    innovation_id: uuid.UUID
    service_id: uuid.UUID | None = None
    window_days: int = DEFAULT_WINDOW_DAYS
    as_of: datetime | None = None
    known_at: datetime | None = None


StatusAnswer = EmbeddingStatus | ProblemError


async def innovation_status_batch(
    *,
    session: AsyncSession,
    principal: Principal,
    requests: Sequence[StatusRequest],
    read: AsyncSession | None = None,
) -> list[StatusAnswer]:
    """`innovation_status` for many requests of one caller, in their order, each answered with its
    status or its refusal. Requests sharing window, `as_of` and `known_at` resolve the caller's
    scopes once and load each provider's counts once, however many innovations they ask about.
    Projected statuses are read through `read` (the read replica) when given."""
    groups: dict[tuple[int, datetime | None, datetime | None], list[StatusRequest]] = defaultdict(list)
    for request in requests:
        groups[(request.window_days, request.as_of, request.known_at)].append(request)
    answers: dict[StatusRequest, StatusAnswer] = {}
    for group in groups.values():
        answers.update(await _same_moment(session, principal, group, read))
    return [answers[request] for request in requests]


async def _same_moment(
    session: AsyncSession, principal: Principal, requests: list[StatusRequest], read: AsyncSession | None
) -> dict[StatusRequest, StatusAnswer]:
    first = requests[0]
    try:
        check(principal, Permission.status_read)
        check_window(first.window_days)
        moment, known = resolve_moments(first.as_of, first.known_at)
    except ProblemError as problem:
        return dict.fromkeys(requests, problem)
    if serves_projection(first.as_of, first.known_at, first.window_days):
        # Each is one stored row: the single read answers it, from its projection.
        return {request: await _one(session, principal, request, read) for request in requests}
    with status_computation("on_read") as computation:
        answers, computation.statuses = await _computed_together(session, principal, requests, moment, known)
    count_served("computed", computation.statuses)
    return answers


async def _computed_together(
    session: AsyncSession,
    principal: Principal,
    requests: list[StatusRequest],
    moment: datetime,
    known: datetime | None,
) -> tuple[dict[StatusRequest, StatusAnswer], int]:
    """The requests' statuses from one load of each provider's counts, and how many were computed
    so; a request that is not a plain visible case is answered (and counted) by the single read."""
    first = requests[0]
    wanted = sorted({r.innovation_id for r in requests})
    found: dict[uuid.UUID, tuple[StatusSubject, ProviderScope]] = {}
    for scope in await readable_scopes(session, principal, as_of=moment):
        subjects = await load_subjects(
            session, scope.provider_id, wanted, as_of=moment, window_days=first.window_days, known_at=known
        )
        found.update((subject.innovation.id, (subject, scope)) for subject in subjects)
    answers: dict[StatusRequest, StatusAnswer] = {}
    computed = 0
    for request in requests:
        hit = found.get(request.innovation_id)
        visible = visible_services(*hit) if hit else []
        one_service = request.service_id
        if hit is None or not visible or (one_service is not None and one_service not in visible):
            # Not a plain visible case: the single read answers, so its refusal is exactly that one.
            answers[request] = await _one(session, principal, request, None)
            continue
        subject, scope = hit
        service_ids = visible if request.service_id is None else [request.service_id]
        answers[request] = status_public(
            subject,
            subject.evaluate(service_ids),
            service_ids=service_ids,
            service_id=request.service_id,
            external=scope.is_external,
            known_at=known,
        )
        computed += 1
    return answers, computed


async def _one(
    session: AsyncSession, principal: Principal, request: StatusRequest, read: AsyncSession | None
) -> StatusAnswer:
    try:
        return await innovation_status(
            session=session,
            read=read,
            principal=principal,
            innovation_id=request.innovation_id,
            service_id=request.service_id,
            window_days=request.window_days,
            as_of=request.as_of,
            known_at=request.known_at,
        )
    except ProblemError as problem:
        return problem


async def innovation_history(
    *,
    session: AsyncSession,
    principal: Principal,
    innovation_id: uuid.UUID,
    service_id: uuid.UUID | None = None,
    months: int = 12,
    window_days: int = DEFAULT_WINDOW_DAYS,
    as_of: datetime | None = None,
    read: AsyncSession | None = None,
) -> StatusHistory:
    """The monthly series: one point per month, each the window ending at that month's end, the
    last ending at `as_of`. `read` as for `innovation_status`."""
    check(principal, Permission.status_read)
    check_window(window_days)
    if not 1 <= months <= MAX_HISTORY_MONTHS:
        raise invalid_field("months", "out_of_range", f"must be from 1 to {MAX_HISTORY_MONTHS}")
    moment, _ = resolve_moments(as_of, None)
    if serves_projection(as_of, None, window_days) and months <= HISTORY_MONTHS:
        return await projected.innovation_history(
            session=session,
            read=read,
            principal=principal,
            innovation_id=innovation_id,
            service_id=service_id,
            months=months,
            invalid_service=_not_in_scope(),
        )
    with status_computation("on_read") as computation:
        visible = await _subject(
            read or session, principal, innovation_id, as_of=moment, window_days=window_days, history=months
        )
        service_ids = _one_service(visible, service_id)
        evaluated = visible.subject.evaluate(service_ids, history=months)
        computation.statuses = 1
    count_served("computed")
    return history_public(
        visible.subject,
        evaluated,
        service_ids=service_ids,
        service_id=service_id,
        external=visible.scope.is_external,
        as_of=moment,
    )


def innovation_statuses(
    subject: StatusSubject, scope: ProviderScope, known_at: datetime | None = None
) -> InnovationStatuses | None:
    """The provider row and one row per service, all from the same loaded counts."""
    service_ids = visible_services(subject, scope)
    if not service_ids:
        return None
    external = scope.is_external
    provider = status_public(
        subject,
        subject.evaluate(service_ids),
        service_ids=service_ids,
        service_id=None,
        external=external,
        known_at=known_at,
    )
    services = [
        status_public(
            subject,
            subject.evaluate([s]),
            service_ids=[s],
            service_id=s,
            external=external,
            known_at=known_at,
        )
        for s in service_ids
    ]
    return InnovationStatuses(
        innovation_id=subject.innovation.id,
        innovation_name=subject.innovation.name,
        organisation_id=subject.innovation.organisation_id,
        phase=subject.innovation.phase,
        provider=provider,
        services=services,
    )


async def list_statuses(
    *,
    session: AsyncSession,
    principal: Principal,
    window_days: int = DEFAULT_WINDOW_DAYS,
    as_of: datetime | None = None,
    limit: int = 20,
    cursor: str | None = None,
    read: AsyncSession | None = None,
) -> Page[InnovationStatuses]:
    """Every innovation the caller may read, provider by provider, one page of innovations at a time.
    `read` as for `innovation_status`."""
    reader = read or session
    check(principal, Permission.status_read)
    check_window(window_days)
    moment, _ = resolve_moments(as_of, None)
    after = decode_cursor(cursor, cursor_uuid, cursor_uuid)
    after_key = (after[0], after[1]) if after else None
    wanted: list[tuple[ProviderScope, uuid.UUID]] = []
    for scope in await readable_scopes(reader, principal, as_of=moment):
        for row in sorted(await provider_setup.innovations(reader, scope.provider_id), key=lambda r: r.id):
            if not any(scope.may_see_service(s) for s in row.service_ids):
                continue
            if after_key is None or (scope.provider_id, row.id) > after_key:
                wanted.append((scope, row.id))
    page, more = wanted[:limit], len(wanted) > limit
    items: list[InnovationStatuses] = []
    by_provider: dict[uuid.UUID, tuple[ProviderScope, list[uuid.UUID]]] = {}
    for scope, innovation_id in page:
        by_provider.setdefault(scope.provider_id, (scope, []))[1].append(innovation_id)
    for provider_id, (scope, ids) in by_provider.items():
        if serves_projection(as_of, None, window_days):
            items += await projected.innovation_statuses(session, scope, ids, read=read)
            continue
        with status_computation("on_read") as computation:
            subjects = await load_subjects(reader, provider_id, ids, as_of=moment, window_days=window_days)
            for subject in sorted(subjects, key=lambda s: s.innovation.id):
                statuses = innovation_statuses(subject, scope)
                if statuses is not None:
                    items.append(statuses)
                    computation.statuses += 1 + len(statuses.services)
        count_served("computed", computation.statuses)
    next_cursor = encode_cursor([str(page[-1][0].provider_id), str(page[-1][1])]) if more and page else None
    return Page[InnovationStatuses](items=items, next_cursor=next_cursor)
