"""Webhook endpoints managed through the REST service functions: the same rules, the same answers.

The secret is in the answer of `createWebhookEndpoint` and `rotateWebhookEndpointSecret` only.
"""

import uuid
from datetime import datetime
from typing import Annotated

import strawberry

from service.errors import ProblemError
from service.graphql.connections import After, Connection, First, connection, page_limit, time_id_cursor
from service.graphql.context import GraphQLInfo
from service.graphql.inputs import given
from service.graphql.permissions import policy
from service.graphql.problems import (
    Conflict,
    NotAllowed,
    NotFound,
    ValidationProblem,
    problem_result,
    validated,
)
from service.pagination import encode_cursor
from service.policy import Permission
from service.webhooks import service
from service.webhooks.models import WebhookEndpoint as EndpointRow
from service.webhooks.schemas import (
    SecretRotation,
    WebhookDeliveryPublic,
    WebhookEndpointCreate,
    WebhookEndpointPublic,
    WebhookEndpointUpdate,
)
from service.webhooks.vocabulary import DeliveryStatus, EventType

strawberry.enum(EventType, description="A status event an endpoint may receive.")
strawberry.enum(DeliveryStatus, description="Where a delivery stands.")


@strawberry.type(
    description="Where an organisation's status events are pushed (REST: /v1/webhook-endpoints)."
)
class WebhookEndpoint:
    id: uuid.UUID
    url: str
    description: str
    event_types: list[EventType]
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str | None = strawberry.field(description="Why deliveries stopped, when they did.")
    secret_rotated_at: datetime
    previous_secret_expires_at: datetime | None = strawberry.field(
        description="Until then the previous secret signs too."
    )
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, public: WebhookEndpointPublic) -> "WebhookEndpoint":
        return cls(**public.model_dump())

    @classmethod
    def of_row(cls, row: EndpointRow) -> "WebhookEndpoint":
        return cls.of(service.endpoint_public(row))

    @strawberry.field(
        extensions=[policy(Permission.webhook_manage)],
        description="Its deliveries, newest event first, each with its attempts.",
    )
    async def deliveries(
        self, info: GraphQLInfo, first: First = 50, after: After = None, status: DeliveryStatus | None = None
    ) -> Connection["WebhookDelivery"]:
        async with info.context.unit_of_work() as session:
            page = await service.list_deliveries(
                session=session,
                principal=info.context.principal,
                endpoint_id=self.id,
                status=status,
                cursor=after,
                limit=page_limit(first),
            )
        return connection(
            [WebhookDelivery.of(d) for d in page.items],
            cursors=[encode_cursor([int(d.event_id)]) for d in page.items],
            next_cursor=page.next_cursor,
            after=after,
        )


@strawberry.type(description="One POST of a delivery.")
class WebhookAttempt:
    attempted_at: datetime
    status_code: int | None = strawberry.field(description="The answer's HTTP status; null when none came.")
    latency_ms: int
    error: str | None
    response_excerpt: str | None = strawberry.field(description="The start of the answer (at most 1 KB).")


@strawberry.type(
    description="One event for one endpoint; `id` is its `webhook-id` without `msg_` and dashes."
)
class WebhookDelivery:
    id: uuid.UUID
    event_id: str
    event_type: EventType
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    attempts: list[WebhookAttempt]

    @classmethod
    def of(cls, public: WebhookDeliveryPublic) -> "WebhookDelivery":
        fields = public.model_dump(exclude={"attempts"})
        return cls(**fields, attempts=[WebhookAttempt(**a.model_dump()) for a in public.attempts])


@strawberry.type
class WebhookQuery:
    @strawberry.field(
        extensions=[policy(Permission.webhook_manage)],
        description="The organisation's webhook endpoints, oldest first (REST: GET /v1/webhook-endpoints).",
    )
    async def webhook_endpoints(
        self, info: GraphQLInfo, first: First = 50, after: After = None
    ) -> Connection[WebhookEndpoint]:
        async with info.context.unit_of_work() as session:
            page = await service.list_endpoints(
                session=session, principal=info.context.principal, cursor=after, limit=page_limit(first)
            )
        return connection(
            [WebhookEndpoint.of(e) for e in page.items],
            cursors=[time_id_cursor(e.created_at, e.id) for e in page.items],
            next_cursor=page.next_cursor,
            after=after,
        )

    @strawberry.field(
        extensions=[policy(Permission.webhook_manage)],
        description="One webhook endpoint (REST: GET /v1/webhook-endpoints/{id}); null if not the caller's.",
    )
    async def webhook_endpoint(self, info: GraphQLInfo, id: uuid.UUID) -> WebhookEndpoint | None:
        try:
            async with info.context.unit_of_work() as session:
                row = await service.get_endpoint(
                    session=session, principal=info.context.principal, endpoint_id=id
                )
        except ProblemError as problem:
            if problem.status == 404:
                return None
            raise
        return WebhookEndpoint.of_row(row)


@strawberry.input(description="A new webhook endpoint (REST: POST /v1/webhook-endpoints).")
class WebhookEndpointCreateInput:
    url: str
    event_types: list[EventType]
    description: str | None = strawberry.UNSET


@strawberry.input(description="The fields to change; omitted fields keep their value (REST: PATCH).")
class WebhookEndpointUpdateInput:
    url: str | None = strawberry.UNSET
    event_types: list[EventType] | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    enabled: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="`true` re-enables a disabled endpoint and sends what waited; `false` pauses it.",
    )


@strawberry.type(description="The endpoint as stored.")
class WebhookEndpointSaved:
    endpoint: WebhookEndpoint


@strawberry.type(description="The endpoint and its secret, shown this once.")
class WebhookEndpointWithSecret:
    endpoint: WebhookEndpoint
    secret: str = strawberry.field(description="`whsec_…`: it verifies every delivery's `webhook-signature`.")


@strawberry.type(description="The endpoint was deleted, with its deliveries.")
class WebhookEndpointDeleted:
    id: uuid.UUID


@strawberry.type(description="The delivery is queued again, with a fresh retry schedule.")
class WebhookRedeliveryQueued:
    delivery: WebhookDelivery


PROBLEMS = (ValidationProblem, NotAllowed, NotFound, Conflict)
CreateWebhookEndpointResult = Annotated[
    WebhookEndpointWithSecret | ValidationProblem | NotAllowed | Conflict,
    strawberry.union("CreateWebhookEndpointResult"),
]
UpdateWebhookEndpointResult = Annotated[
    WebhookEndpointSaved | ValidationProblem | NotAllowed | NotFound,
    strawberry.union("UpdateWebhookEndpointResult"),
]
RotateWebhookSecretResult = Annotated[
    WebhookEndpointWithSecret | ValidationProblem | NotAllowed | NotFound,
    strawberry.union("RotateWebhookSecretResult"),
]
DeleteWebhookEndpointResult = Annotated[
    WebhookEndpointDeleted | NotAllowed | NotFound, strawberry.union("DeleteWebhookEndpointResult")
]
RedeliverWebhookResult = Annotated[
    WebhookRedeliveryQueued | NotAllowed | NotFound, strawberry.union("RedeliverWebhookResult")
]


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(
        extensions=[policy(Permission.webhook_manage)],
        description="Register an endpoint: `https://` on a public address. The answer holds its secret.",
    )
    async def create_webhook_endpoint(
        self, info: GraphQLInfo, input: WebhookEndpointCreateInput
    ) -> CreateWebhookEndpointResult:
        try:
            data = validated(WebhookEndpointCreate, given(input))
            async with info.context.unit_of_work() as session:
                row, secret = await service.create_endpoint(
                    session=session,
                    principal=info.context.principal,
                    data=data,
                    allow_loopback=info.context.settings.webhooks_allow_loopback,
                )
                endpoint = WebhookEndpoint.of_row(row)
        except ProblemError as problem:
            return problem_result(problem, *PROBLEMS)
        return WebhookEndpointWithSecret(endpoint=endpoint, secret=secret)

    @strawberry.mutation(
        extensions=[policy(Permission.webhook_manage)],
        description="Change, pause or re-enable an endpoint.",
    )
    async def update_webhook_endpoint(
        self, info: GraphQLInfo, id: uuid.UUID, input: WebhookEndpointUpdateInput
    ) -> UpdateWebhookEndpointResult:
        try:
            data = validated(WebhookEndpointUpdate, given(input))
            async with info.context.unit_of_work() as session:
                row = await service.update_endpoint(
                    session=session,
                    principal=info.context.principal,
                    endpoint_id=id,
                    data=data,
                    allow_loopback=info.context.settings.webhooks_allow_loopback,
                )
                endpoint = WebhookEndpoint.of_row(row)
        except ProblemError as problem:
            return problem_result(problem, *PROBLEMS)
        return WebhookEndpointSaved(endpoint=endpoint)

    @strawberry.mutation(
        extensions=[policy(Permission.webhook_manage)],
        description="A new secret, shown this once; the previous one signs too during the overlap.",
    )
    async def rotate_webhook_endpoint_secret(
        self, info: GraphQLInfo, id: uuid.UUID, overlap_seconds: int | None = None
    ) -> RotateWebhookSecretResult:
        try:
            rotation = validated(
                SecretRotation, {} if overlap_seconds is None else {"overlap_seconds": overlap_seconds}
            )
            async with info.context.unit_of_work() as session:
                row, secret = await service.rotate_secret(
                    session=session, principal=info.context.principal, endpoint_id=id, rotation=rotation
                )
                endpoint = WebhookEndpoint.of_row(row)
        except ProblemError as problem:
            return problem_result(problem, *PROBLEMS)
        return WebhookEndpointWithSecret(endpoint=endpoint, secret=secret)

    @strawberry.mutation(
        extensions=[policy(Permission.webhook_manage)], description="Delete an endpoint and its deliveries."
    )
    async def delete_webhook_endpoint(self, info: GraphQLInfo, id: uuid.UUID) -> DeleteWebhookEndpointResult:
        try:
            async with info.context.unit_of_work() as session:
                await service.delete_endpoint(
                    session=session, principal=info.context.principal, endpoint_id=id
                )
        except ProblemError as problem:
            return problem_result(problem, *PROBLEMS)
        return WebhookEndpointDeleted(id=id)

    @strawberry.mutation(
        extensions=[policy(Permission.webhook_manage)],
        description="Send a delivery again, with the same `webhook-id`, in its event's place in order.",
    )
    async def redeliver_webhook_delivery(
        self, info: GraphQLInfo, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
    ) -> RedeliverWebhookResult:
        try:
            async with info.context.unit_of_work() as session:
                delivery = await service.redeliver(
                    session=session,
                    principal=info.context.principal,
                    endpoint_id=endpoint_id,
                    delivery_id=delivery_id,
                )
        except ProblemError as problem:
            return problem_result(problem, *PROBLEMS)
        return WebhookRedeliveryQueued(delivery=WebhookDelivery.of(delivery))
