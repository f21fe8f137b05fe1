"""A commissioner's portfolio: every commissioned provider's statuses, and stage changes since a date.

Aggregates only: the statuses are REST's, over the commissioned services, with small counts withheld;
no type here carries free text or staff or person identity. Each answer carries the REST ETag as
`fingerprint`: poll it alone (cheap: a few queries) and ask for the rest only when it changes.
An analyst's filters, sort and medians are REST's (service.portfolio.selection).
"""

import asyncio
import uuid
from datetime import UTC, date, datetime
from enum import Enum
from typing import Annotated

import strawberry

from service.graphql.connections import After, Connection, connection, page_limit
from service.graphql.context import GraphQLInfo
from service.graphql.permissions import policy
from service.graphql.status.queries import WindowDays
from service.graphql.status.types import IndicatorKey, InnovationStatuses, Rag, Stage, StageReason
from service.pagination import encode_cursor
from service.policy import Permission
from service.portfolio import service as rules
from service.portfolio.schemas import PortfolioPage as PortfolioPagePublic
from service.portfolio.schemas import PortfolioProvider as PortfolioProviderPublic
from service.portfolio.schemas import StageChange as StageChangePublic
from service.status.service import DEFAULT_WINDOW_DAYS

PortfolioAsOf = Annotated[
    datetime | None, strawberry.argument(description="Default: the start of the current hour (UTC).")
]
# REST's page bounds: providers are whole status evaluations; changes are light.
MAX_PROVIDERS = 100
MAX_CHANGES = 500


@strawberry.enum(description="REST's `sort`: `_DESC` for descending; the order is within a page.")
class PortfolioSort(Enum):
    PROVIDER = "provider"
    PROVIDER_DESC = "-provider"
    INNOVATION = "innovation"
    INNOVATION_DESC = "-innovation"
    STAGE = "stage"
    STAGE_DESC = "-stage"


@strawberry.type(description="An indicator's median over the portfolio rows shown (REST: `medians`).")
class IndicatorMedian:
    key: IndicatorKey  # type: ignore[valid-type]
    median: float | None = strawberry.field(
        description="Over the provider rows of the innovations on the page that pass the filters, rated "
        "green, amber or red with a value shown; suppressed and unrated values left out."
    )
    rows: int


@strawberry.type
class PortfolioService:
    service_id: uuid.UUID
    name: str
    cqc_location_id: str | None


@strawberry.type(description="A commissioned provider: its commissioned services and innovations' statuses.")
class PortfolioProvider:
    provider_id: uuid.UUID
    provider_name: str
    services: list[PortfolioService]
    innovations: list[InnovationStatuses]

    @classmethod
    def of(cls, provider: PortfolioProviderPublic) -> "PortfolioProvider":
        return cls(
            provider_id=provider.provider_id,
            provider_name=provider.provider_name,
            services=[
                PortfolioService(service_id=s.service_id, name=s.name, cqc_location_id=s.cqc_location_id)
                for s in provider.services
            ],
            innovations=[InnovationStatuses.of(i) for i in provider.innovations],
        )


@strawberry.type(description="A stage change of a provider row or a commissioned service row.")
class StageChange:
    provider_id: uuid.UUID
    provider_name: str
    innovation_id: uuid.UUID
    innovation_name: str
    service_id: uuid.UUID | None = strawberry.field(description="Null for the provider row.")
    month: date
    changed_at: datetime
    from_stage: Stage  # type: ignore[valid-type]
    to_stage: Stage  # type: ignore[valid-type]
    stage_reasons: list[StageReason]

    @classmethod
    def of(cls, change: StageChangePublic) -> "StageChange":
        return cls(
            provider_id=change.provider_id,
            provider_name=change.provider_name,
            innovation_id=change.innovation_id,
            innovation_name=change.innovation_name,
            service_id=change.service_id,
            month=change.month,
            changed_at=change.changed_at,
            from_stage=change.from_stage,
            to_stage=change.to_stage,
            stage_reasons=[StageReason.of(r) for r in change.stage_reasons],
        )


def change_cursor(change: StageChangePublic) -> str:
    """The REST change list's keyset: when, then provider, innovation and service."""
    return encode_cursor(
        [
            change.changed_at.astimezone(UTC).isoformat(),
            str(change.provider_id),
            str(change.innovation_id),
            str(change.service_id or ""),
        ]
    )


@strawberry.type(description="The portfolio on `asOf`: its fingerprint, and its providers when asked.")
class PortfolioStatus:
    as_of: datetime
    window_days: int
    fingerprint: str = strawberry.field(description="REST's ETag: unchanged while nothing it covers has.")
    opened: strawberry.Private[rules.Portfolio]
    limit: strawberry.Private[int]
    after: strawberry.Private[str | None]
    # The page, read once for `providers` and `medians` alike.
    read: strawberry.Private[list[PortfolioPagePublic]]
    reading: strawberry.Private[asyncio.Lock]

    async def _page(self, info: GraphQLInfo) -> PortfolioPagePublic:
        async with self.reading:
            if not self.read:
                async with info.context.unit_of_work() as session:
                    self.read.append(
                        await rules.portfolio_status(
                            session=session, portfolio=self.opened, limit=self.limit, cursor=self.after
                        )
                    )
        return self.read[0]

    @strawberry.field(description="Each indicator's median over the page's rows (computed only when asked).")
    async def medians(self, info: GraphQLInfo) -> list[IndicatorMedian]:
        page = await self._page(info)
        return [IndicatorMedian(key=m.key, median=m.median, rows=m.rows) for m in page.medians]

    @strawberry.field(description="A page of commissioned providers (computed only when asked).")
    async def providers(self, info: GraphQLInfo) -> Connection[PortfolioProvider]:
        page = await self._page(info)
        return connection(
            [PortfolioProvider.of(p) for p in page.items],
            cursors=[encode_cursor([str(p.provider_id)]) for p in page.items],
            next_cursor=page.next_cursor,
            after=self.after,
        )


@strawberry.type(description="Stage changes since `since`: their fingerprint, and the changes when asked.")
class PortfolioChanges:
    since: date
    as_of: datetime
    window_days: int
    fingerprint: str = strawberry.field(description="REST's ETag: unchanged while nothing it covers has.")
    opened: strawberry.Private[rules.Portfolio]
    limit: strawberry.Private[int]
    after: strawberry.Private[str | None]

    @strawberry.field(description="A page of stage changes, oldest first (computed only when asked).")
    async def changes(self, info: GraphQLInfo) -> Connection[StageChange]:
        async with info.context.unit_of_work() as session:
            page = await rules.portfolio_changes(
                session=session, portfolio=self.opened, since=self.since, limit=self.limit, cursor=self.after
            )
        return connection(
            [StageChange.of(c) for c in page.items],
            cursors=[change_cursor(c) for c in page.items],
            next_cursor=page.next_cursor,
            after=self.after,
        )


@strawberry.type
class PortfolioQuery:
    @strawberry.field(
        extensions=[policy(Permission.portfolio_read)],
        description="Every commissioned provider's statuses, over the commissioned services "
        "(REST: GET /v1/portfolio/status).",
    )
    async def portfolio_status(
        self,
        info: GraphQLInfo,
        window_days: WindowDays = DEFAULT_WINDOW_DAYS,
        as_of: PortfolioAsOf = None,
        first: Annotated[
            int, strawberry.argument(description=f"Providers per page (1–{MAX_PROVIDERS}).")
        ] = 20,
        after: After = None,
        stage: Annotated[
            list[Stage] | None,  # type: ignore[valid-type]
            strawberry.argument(description="Keep innovations whose provider row is at one of these."),
        ] = None,
        indicator: Annotated[
            IndicatorKey | None,  # type: ignore[valid-type]
            strawberry.argument(description="With `rag`: keep innovations whose provider row rates it so."),
        ] = None,
        rag: Annotated[
            list[Rag] | None,  # type: ignore[valid-type]
            strawberry.argument(description="With `indicator`: the ratings to keep."),
        ] = None,
        innovation: Annotated[
            str | None,
            strawberry.argument(description="Keep innovations whose name contains this (any case)."),
        ] = None,
        sort: PortfolioSort | None = None,
    ) -> PortfolioStatus:
        limit = page_limit(first, maximum=MAX_PROVIDERS)
        selection = rules.parse_selection(
            # The enums' members are REST's strings already.
            stage=stage,
            indicator=indicator,
            rag=rag,
            innovation=innovation,
            sort=sort.value if sort is not None else None,
        )
        async with info.context.unit_of_work() as session:
            portfolio = await rules.open_portfolio(
                session=session,
                principal=info.context.principal,
                as_of=as_of,
                window_days=window_days,
                limit=limit,
                cursor=after,
                selection=selection,
            )
        return PortfolioStatus(
            as_of=portfolio.as_of,
            window_days=portfolio.window_days,
            fingerprint=portfolio.etag,
            opened=portfolio,
            limit=limit,
            after=after,
            read=[],
            reading=asyncio.Lock(),
        )

    @strawberry.field(
        extensions=[policy(Permission.portfolio_read)],
        description="Stage changes across the portfolio since a date, oldest first "
        "(REST: GET /v1/portfolio/changes).",
    )
    async def portfolio_changes(
        self,
        info: GraphQLInfo,
        since: Annotated[
            date | None, strawberry.argument(description="Default: the start of the previous month.")
        ] = None,
        window_days: WindowDays = DEFAULT_WINDOW_DAYS,
        as_of: PortfolioAsOf = None,
        first: Annotated[int, strawberry.argument(description=f"Changes per page (1–{MAX_CHANGES}).")] = 100,
        after: After = None,
    ) -> PortfolioChanges:
        limit = page_limit(first, maximum=MAX_CHANGES)
        async with info.context.unit_of_work() as session:
            portfolio, since = await rules.open_changes(
                session=session,
                principal=info.context.principal,
                since=since,
                as_of=as_of,
                window_days=window_days,
                limit=limit,
                cursor=after,
            )
        return PortfolioChanges(
            since=since,
            as_of=portfolio.as_of,
            window_days=portfolio.window_days,
            fingerprint=portfolio.etag,
            opened=portfolio,
            limit=limit,
            after=after,
        )
