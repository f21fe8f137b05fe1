"""A commissioner's portfolio: the statuses of every provider it commissions, and their stage changes.

Only commissioning relationships count here (in force on the status date, all services or the
subset named). Everything is computed with the status rules, over the commissioned services
only, with small counts withheld. Both answers carry a fingerprint of what they were computed from,
so a client polling with `If-None-Match` gets `304 Not Modified` without recomputing anything.
"""

import hashlib
import itertools
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from service import clock
from service.auth.principal import Principal
from service.pagination import (
    cursor_moment,
    cursor_optional_uuid,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
)
from service.policy import Permission, check
from service.portfolio import repository
from service.portfolio.schemas import (
    PortfolioPage,
    PortfolioProvider,
    PortfolioService,
    StageChange,
    StageChangePage,
)
from service.scoping import Access, ProviderScope
from service.status.access import readable_scopes
from service.status.evaluation.periods import add_months
from service.status.present import reasons_public
from service.status.service import (
    DEFAULT_WINDOW_DAYS,
    MAX_HISTORY_MONTHS,
    check_window,
    innovation_statuses,
    invalid_field,
    resolve_moments,
    visible_services,
)
from service.status.subjects import load_subjects

FINGERPRINT_VERSION = "1"


@dataclass(frozen=True, slots=True)
class Portfolio:
    """What one portfolio request covers, and the fingerprint of what it would be computed from."""

    as_of: datetime
    window_days: int
    scopes: list[ProviderScope]
    names: dict[uuid.UUID, str]
    etag: str


def portfolio_moment(as_of: datetime | None) -> datetime:
    """`as_of`, or the start of the current hour: polls within the hour describe the same moment."""
    if as_of is not None:
        return resolve_moments(as_of, None)[0]
    return clock.now().replace(minute=0, second=0, microsecond=0)


async def open_portfolio(
    *,
    session: AsyncSession,
    principal: Principal,
    as_of: datetime | None,
    window_days: int,
    query: dict[str, object],
) -> Portfolio:
    """The commissioned providers on `as_of`'s date and a fingerprint (cheap: a few queries)."""
    check(principal, Permission.portfolio_read)
    check_window(window_days)
    moment = portfolio_moment(as_of)
    scopes = [
        s for s in await readable_scopes(session, principal, as_of=moment) if s.access is Access.commissioning
    ]
    fingerprints = await repository.provider_fingerprints(session, [s.provider_id for s in scopes])
    material = {
        "version": FINGERPRINT_VERSION,
        "as_of": moment.isoformat(),
        "window_days": window_days,
        "query": {k: str(v) for k, v in sorted(query.items())},
        "providers": [
            [
                str(s.provider_id),
                sorted(str(x) for x in s.service_ids) if s.service_ids is not None else None,
                fingerprints.get(s.provider_id, ("", ()))[1],
            ]
            for s in scopes
        ],
    }
    digest = hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()[:32]
    names = {pid: name for pid, (name, _) in fingerprints.items()}
    return Portfolio(moment, window_days, scopes, names, f'"{digest}"')


async def portfolio_status(
    *, session: AsyncSession, portfolio: Portfolio, limit: int = 20, cursor: str | None = None
) -> PortfolioPage:
    """Each commissioned provider (a page of them), with its innovations' statuses."""
    after = decode_cursor(cursor, cursor_uuid)
    scopes = [s for s in portfolio.scopes if after is None or str(s.provider_id) > str(after[0])]
    page, more = scopes[:limit], len(scopes) > limit
    items = []
    for scope in page:
        services = await repository.service_names(session, scope.provider_id)
        subjects = await load_subjects(
            session, scope.provider_id, as_of=portfolio.as_of, window_days=portfolio.window_days
        )
        innovations = [
            s for s in (innovation_statuses(subject, scope) for subject in subjects) if s is not None
        ]
        items.append(
            PortfolioProvider(
                provider_id=scope.provider_id,
                provider_name=portfolio.names.get(scope.provider_id, ""),
                services=[
                    PortfolioService(service_id=sid, name=name, cqc_location_id=location)
                    for sid, (name, location) in sorted(services.items(), key=lambda kv: kv[1][0])
                    if scope.may_see_service(sid)
                ],
                innovations=innovations,
            )
        )
    next_cursor = encode_cursor([str(page[-1].provider_id)]) if more and page else None
    return PortfolioPage(
        items=items, next_cursor=next_cursor, as_of=portfolio.as_of, window_days=portfolio.window_days
    )


def check_since(since: date, as_of: datetime) -> int:
    """How many monthly points reach back to the month before `since` (so its change shows)."""
    if since > as_of.date():
        raise invalid_field("since", "in_future", "must not be after as_of")
    months = (as_of.year - since.year) * 12 + as_of.month - since.month + 2
    if months > MAX_HISTORY_MONTHS:
        raise invalid_field("since", "too_early", f"may reach back at most {MAX_HISTORY_MONTHS - 1} months")
    return months


async def portfolio_changes(
    *,
    session: AsyncSession,
    portfolio: Portfolio,
    since: date,
    limit: int = 100,
    cursor: str | None = None,
) -> StageChangePage:
    """Stage changes since `since`, for every provider row and commissioned service row, oldest first.

    A change is dated by the end of the month whose status changed (or `as_of` for the current one).
    """
    months = check_since(since, portfolio.as_of)
    since_at = datetime(since.year, since.month, since.day, tzinfo=UTC)
    changes: list[StageChange] = []
    for scope in portfolio.scopes:
        subjects = await load_subjects(
            session,
            scope.provider_id,
            as_of=portfolio.as_of,
            window_days=portfolio.window_days,
            history=months,
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
                    if before.stage is after.stage or after.point.end < since_at:
                        continue
                    changes.append(
                        StageChange(
                            provider_id=scope.provider_id,
                            provider_name=portfolio.names.get(scope.provider_id, ""),
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
    changes.sort(key=_change_key)
    position = decode_cursor(cursor, cursor_moment, cursor_uuid, cursor_uuid, cursor_optional_uuid)
    if position is not None:
        at, provider_id, innovation_id, service_id = position
        after_key = (
            at.astimezone(UTC).isoformat(),
            str(provider_id),
            str(innovation_id),
            str(service_id or ""),
        )
        changes = [c for c in changes if _change_key(c) > after_key]
    page, more = changes[:limit], len(changes) > limit
    next_cursor = encode_cursor(list(_change_key(page[-1]))) if more and page else None
    return StageChangePage(
        items=page,
        next_cursor=next_cursor,
        since=since,
        as_of=portfolio.as_of,
        window_days=portfolio.window_days,
    )


def _change_key(change: StageChange) -> tuple[str, str, str, str]:
    return (
        change.changed_at.astimezone(UTC).isoformat(),
        str(change.provider_id),
        str(change.innovation_id),
        str(change.service_id or ""),
    )


def default_since(as_of: datetime) -> date:
    """A month back, from the start of the previous month: enough for a monthly poll."""
    return add_months((as_of - timedelta(days=1)).date().replace(day=1), -1)


__all__ = ["DEFAULT_WINDOW_DAYS", "Portfolio", "open_portfolio", "portfolio_changes", "portfolio_status"]
