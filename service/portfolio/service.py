"""A commissioner's portfolio: the statuses of every provider it commissions, and their stage changes.

Only commissioning relationships count here (in force on the status date, all services or the
subset named). Statuses come from the status service functions, over the commissioned services
only, with small counts withheld: "now" with the default window from projections, any other moment
or window computed on read. Stage changes of "now" are the change feed's `status.stage_changed`
events; of another moment or window, recomputed from the monthly series. Every answer carries an
ETag derived without computing a status (for "now", from when each projection it serves was
computed), so a client polling with `If-None-Match` gets `304 Not Modified` cheaply.

An analyst's filters, sort and medians (service.portfolio.selection) shape the page after its
statuses are read; they and the representation asked for (JSON or CSV) are part of the ETag.
"""

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

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
from service.portfolio.selection import Selection, medians, select
from service.portfolio.selection import selection as parse_selection
from service.projections import events as change_feed
from service.projections.service import serves as serves_projection
from service.scoping import Access, ProviderScope
from service.status.access import readable_scopes
from service.status.evaluation.periods import add_months
from service.status.schemas import InnovationStatuses, StageReasonPublic
from service.status.scoped import (
    projected_versions,
    scoped_statuses,
    served_versions,
    stage_changes_on_read,
)
from service.status.service import (
    DEFAULT_WINDOW_DAYS,
    MAX_HISTORY_MONTHS,
    check_window,
    invalid_field,
    resolve_moments,
)

FINGERPRINT_VERSION = "3"


@dataclass(slots=True)
class Portfolio:
    """What one portfolio request covers, and the ETag of its answer, known before computing it."""

    as_of: datetime
    window_days: int
    # "Now" with the default window: statuses from projections, stage changes from events.
    projected: bool
    scopes: list[ProviderScope]
    etag: str
    page: list[ProviderScope] = field(default_factory=list)
    setups: dict[uuid.UUID, repository.ProviderSetup] = field(default_factory=dict)
    selection: Selection = field(default_factory=Selection)
    # Statuses already read while deriving the ETag (projections computed on read).
    statuses: dict[uuid.UUID, list[InnovationStatuses]] | None = None
    changes: list[StageChange] | None = None


def portfolio_moment(as_of: datetime | None) -> datetime:
    """`as_of`, or the start of the current hour: polls within the hour describe the same moment."""
    if as_of is not None:
        return resolve_moments(as_of, None)[0]
    return clock.now().replace(minute=0, second=0, microsecond=0)


def _tag(material: dict[str, Any]) -> str:
    material = {"version": FINGERPRINT_VERSION, **material}
    digest = hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return f'"{digest}"'


def _scopes_material(scopes: list[ProviderScope]) -> list[Any]:
    return [
        [str(s.provider_id), sorted(str(x) for x in s.service_ids) if s.service_ids is not None else None]
        for s in scopes
    ]


async def _commissioned(session: AsyncSession, principal: Principal, moment: datetime) -> list[ProviderScope]:
    return [
        s for s in await readable_scopes(session, principal, as_of=moment) if s.access is Access.commissioning
    ]


def _page(scopes: list[ProviderScope], limit: int, cursor: str | None) -> list[ProviderScope]:
    after = decode_cursor(cursor, cursor_uuid)
    return [s for s in scopes if after is None or str(s.provider_id) > str(after[0])][: limit + 1]


async def open_portfolio(
    *,
    session: AsyncSession,
    principal: Principal,
    as_of: datetime | None,
    window_days: int,
    limit: int,
    cursor: str | None,
    selection: Selection | None = None,
    representation: str = "json",
) -> Portfolio:
    """The commissioned providers on `as_of`'s date, a page of them, and the ETag of that page as
    `selection` shapes it, in `representation` (cheap: a few queries, no status computed once its
    projections are stored)."""
    check(principal, Permission.portfolio_read)
    check_window(window_days)
    selection = selection or Selection()
    projected = serves_projection(as_of, None, window_days)
    moment = clock.now() if projected else portfolio_moment(as_of)
    scopes = await _commissioned(session, principal, moment)
    page = _page(scopes, limit, cursor)
    shown = page[:limit]
    material: dict[str, Any] = {
        "window_days": window_days,
        "query": [limit, cursor, selection.material(), representation],
        "providers": _scopes_material(scopes),
    }
    if not projected:
        fingerprints = await repository.provider_fingerprints(session, [s.provider_id for s in scopes])
        material |= {"as_of": moment.isoformat(), "inputs": [fingerprints.get(s.provider_id) for s in scopes]}
        setups = await repository.provider_setups(session, [s.provider_id for s in shown])
        return Portfolio(moment, window_days, False, scopes, _tag(material), page, setups, selection)
    setups = await repository.provider_setups(session, [s.provider_id for s in shown])
    versions: dict[tuple[uuid.UUID, str], datetime | None] | None
    versions = dict(
        await projected_versions(
            session=session,
            innovations=[(s, i[0], i[3]) for s in shown for i in setups[s.provider_id].innovations],
        )
        or {}
    )
    statuses = None
    if not versions and any(setups[s.provider_id].innovations for s in shown):
        # A projection not stored yet: reading the statuses computes, stores and queues it.
        statuses = await scoped_statuses(session=session, scopes=shown)
        versions = served_versions(i for items in statuses.values() for i in items)
    computed = [v for v in versions.values() if v is not None]
    # The freshest status it holds; an empty page, the start of the hour.
    moment = max(computed) if computed else portfolio_moment(None)
    material |= {
        "as_of": moment.isoformat(),
        "setups": {
            str(pid): [setup.name, setup.services, setup.innovations] for pid, setup in setups.items()
        },
        "versions": sorted((str(i), key, str(at)) for (i, key), at in versions.items()),
    }
    return Portfolio(moment, window_days, True, scopes, _tag(material), page, setups, selection, statuses)


async def portfolio_status(
    *, session: AsyncSession, portfolio: Portfolio, limit: int = 20, cursor: str | None = None
) -> PortfolioPage:
    """Each commissioned provider of the page opened, with its innovations' statuses, filtered and
    sorted as the portfolio was opened, and each indicator's median over the rows shown."""
    page, more = portfolio.page[:limit], len(portfolio.page) > limit
    statuses = portfolio.statuses
    if statuses is None:
        statuses = await scoped_statuses(
            session=session,
            scopes=page,
            window_days=portfolio.window_days,
            as_of=None if portfolio.projected else portfolio.as_of,
        )
    items = []
    for scope in page:
        setup = portfolio.setups.get(scope.provider_id, repository.ProviderSetup(""))
        items.append(
            PortfolioProvider(
                provider_id=scope.provider_id,
                provider_name=setup.name,
                services=[
                    PortfolioService(service_id=sid, name=name, cqc_location_id=location)
                    for sid, name, location in setup.services
                    if scope.may_see_service(sid)
                ],
                innovations=statuses.get(scope.provider_id, []),
            )
        )
    # Pages follow provider ids before filtering, so a filtered page may hold fewer providers.
    next_cursor = encode_cursor([str(page[-1].provider_id)]) if more and page else None
    items = select(items, portfolio.selection)
    return PortfolioPage(
        items=items,
        next_cursor=next_cursor,
        medians=medians(items),
        as_of=portfolio.as_of,
        window_days=portfolio.window_days,
    )


def check_since(since: date, as_of: datetime) -> int:
    """How many monthly points reach back to the month before `since` (so its change shows)."""
    if since > as_of.date():
        raise invalid_field("since", "in_future", "must not be after as_of")
    months = (as_of.year - since.year) * 12 + as_of.month - since.month + 2
    if months > MAX_HISTORY_MONTHS:
        raise invalid_field("since", "too_early", f"may reach back at most {MAX_HISTORY_MONTHS - 1} months")
    return months


async def open_changes(
    *,
    session: AsyncSession,
    principal: Principal,
    since: date | None,
    as_of: datetime | None,
    window_days: int,
    limit: int,
    cursor: str | None,
) -> tuple[Portfolio, date]:
    """The commissioned providers, `since` (defaulted), and the ETag of the changes asked for. Of
    "now", the changes are read here (one query on the event outbox) and the ETag is theirs."""
    check(principal, Permission.portfolio_read)
    check_window(window_days)
    projected = serves_projection(as_of, None, window_days)
    moment = clock.now() if projected else portfolio_moment(as_of)
    since = since or default_since(moment)
    check_since(since, moment)
    scopes = await _commissioned(session, principal, moment)
    material: dict[str, Any] = {
        "changes": [str(since), window_days, limit, cursor],
        "providers": _scopes_material(scopes),
    }
    setups = await repository.provider_setups(session, [s.provider_id for s in scopes])
    if not projected:
        fingerprints = await repository.provider_fingerprints(session, [s.provider_id for s in scopes])
        material |= {"as_of": moment.isoformat(), "inputs": [fingerprints.get(s.provider_id) for s in scopes]}
        return Portfolio(moment, window_days, False, scopes, _tag(material), scopes, setups), since
    events = await change_feed.stage_changes(session=session, scopes=scopes, since=_start_of(since))
    changes = [
        StageChange(
            provider_id=e.organisation_id,
            provider_name=setups[e.organisation_id].name if e.organisation_id in setups else "",
            innovation_id=e.innovation_id,
            innovation_name=e.innovation_name,
            service_id=e.service_id,
            month=e.occurred_at.astimezone(UTC).date().replace(day=1),
            changed_at=e.occurred_at,
            from_stage=e.data["before"],
            to_stage=e.data["after"],
            stage_reasons=[StageReasonPublic.model_validate(r) for r in e.data.get("reasons", [])],
        )
        for e in events
    ]
    # The latest change it holds; none yet, the start of the hour.
    moment = max((c.changed_at for c in changes), default=portfolio_moment(None))
    material |= {"as_of": moment.isoformat(), "events": [c.model_dump(mode="json") for c in changes]}
    return Portfolio(
        moment, window_days, True, scopes, _tag(material), scopes, setups, changes=changes
    ), since


def _start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


async def portfolio_changes(
    *,
    session: AsyncSession,
    portfolio: Portfolio,
    since: date,
    limit: int = 100,
    cursor: str | None = None,
) -> StageChangePage:
    """Stage changes since `since`, for every provider row and commissioned service row, oldest first.

    Of "now", each is an event of the change feed, dated when the recompute that found it ran.
    Of another moment or window, a change between two monthly points, dated by the end of the
    month whose status changed (or `as_of` for the current one).
    """
    changes = portfolio.changes
    if changes is None:
        months = check_since(since, portfolio.as_of)
        changes = []
        for scope in portfolio.scopes:
            setup = portfolio.setups.get(scope.provider_id, repository.ProviderSetup(""))
            found = await stage_changes_on_read(
                session=session,
                scope=scope,
                as_of=portfolio.as_of,
                window_days=portfolio.window_days,
                months=months,
                since=_start_of(since),
            )
            changes += [
                StageChange(provider_id=scope.provider_id, provider_name=setup.name, **asdict(c))
                for c in found
            ]
    changes = sorted(changes, key=_change_key)
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


__all__ = [
    "DEFAULT_WINDOW_DAYS",
    "Portfolio",
    "Selection",
    "open_changes",
    "open_portfolio",
    "parse_selection",
    "portfolio_changes",
    "portfolio_status",
]
