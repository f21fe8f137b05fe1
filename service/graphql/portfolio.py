"""A commissioner's portfolio: every commissioned provider's statuses, and stage changes since a date.

Aggregates only: the statuses are REST's, over the commissioned services, with small counts withheld;
no type here carries free text or staff or person identity. Each answer carries the REST ETag as
`fingerprint`: poll it alone (cheap: a few queries) and ask for the rest only when it changes.
"""

import uuid
from datetime import UTC, date, datetime
from typing import Annotated

import strawberry

from service.graphql.connections import After, Connection, connection, page_limit
from service.graphql.context import GraphQLInfo
from service.graphql.permissions import policy
from service.graphql.status.queries import WindowDays
from service.graphql.status.types import InnovationStatuses, Stage, StageReason
from service.pagination import encode_cursor
from service.policy import Permission
from service.portfolio import service as rules
from service.portfolio.schemas import PortfolioProvider as PortfolioProviderPublic
from service.portfolio.schemas import StageChange as StageChangePublic
from service.status.service import DEFAULT_WINDOW_DAYS

PortfolioAsOf = Annotated[
    datetime | None, strawberry.argument(description="Default: the start of the current hour (UTC).")
]
# REST's page bounds: providers are whole status evaluations; changes are light.
MAX_PROVIDERS = 100
MAX_CHANGES = 500


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

    @strawberry.field(description="A page of commissioned providers (computed only when asked).")
    async def providers(self, info: GraphQLInfo) -> Connection[PortfolioProvider]:
        async with info.context.unit_of_work() as session:
            page = await rules.portfolio_status(
                session=session, portfolio=self.opened, limit=self.limit, cursor=self.after
            )
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
    ) -> PortfolioStatus:
        limit = page_limit(first, maximum=MAX_PROVIDERS)
        async with info.context.unit_of_work() as session:
            portfolio = await rules.open_portfolio(
                session=session,
                principal=info.context.principal,
                as_of=as_of,
                window_days=window_days,
                limit=limit,
                cursor=after,
            )
        return PortfolioStatus(
            as_of=portfolio.as_of,
            window_days=portfolio.window_days,
            fingerprint=portfolio.etag,
            opened=portfolio,
            limit=limit,
            after=after,
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
