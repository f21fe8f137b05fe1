"""The rules of webhook endpoints: an organisation's admin registers, changes, rotates and deletes
them, and reads their deliveries. REST and GraphQL both call these."""

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from service import clock
from service.audit.service import record_access
from service.auth.principal import Principal
from service.database import driver_connection
from service.errors import Conflict, InvalidInput, NotFound
from service.jobs.queue import enqueue_delivery
from service.model_helpers import utcnow
from service.pagination import Page, cursor_bigint, decode_cursor, encode_cursor
from service.policy import Permission, check
from service.reference.listing import split_page
from service.webhooks import repository, signing, targets
from service.webhooks.models import WebhookDelivery, WebhookEndpoint
from service.webhooks.schemas import (
    SecretRotation,
    WebhookAttemptPublic,
    WebhookDeliveryPublic,
    WebhookEndpointCreate,
    WebhookEndpointPublic,
    WebhookEndpointUpdate,
)
from service.webhooks.vocabulary import DeliveryStatus, EventType

RESOURCE = "webhook_endpoint"
# Each endpoint costs a delivery run per batch of events: a bound keeps one tenant's cost bounded.
MAX_ENDPOINTS_PER_ORGANISATION = 20


def _logged(session: AsyncSession, principal: Principal, action: str, endpoint_id: uuid.UUID) -> None:
    """Every change to an endpoint, and every redelivery, goes to the access log."""
    record_access(
        session,
        principal=principal,
        action=f"webhook_endpoint.{action}",
        resource_type=RESOURCE,
        record_ids=[endpoint_id],
    )


def endpoint_public(row: WebhookEndpoint) -> WebhookEndpointPublic:
    expires = row.previous_secret_expires_at
    return WebhookEndpointPublic(
        id=row.id,
        url=row.url,
        description=row.description,
        event_types=[EventType(t) for t in row.event_types],
        enabled=row.enabled,
        disabled_at=row.disabled_at,
        disabled_reason=row.disabled_reason,
        secret_rotated_at=row.secret_rotated_at,
        previous_secret_expires_at=expires if expires is not None and expires > clock.now() else None,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _vet(url: str, *, allow_loopback: bool) -> str:
    try:
        target = await targets.vet(url, allow_loopback=allow_loopback)
    except targets.TargetRefused as refused:
        raise InvalidInput(
            f"url: {refused.message}",
            errors=[{"field": "url", "rule": refused.rule, "message": refused.message}],
        ) from None
    return str(target.url)


async def create_endpoint(
    *, session: AsyncSession, principal: Principal, data: WebhookEndpointCreate, allow_loopback: bool
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (returned here and by a rotation, nowhere else). It receives
    the events written from now on."""
    check(principal, Permission.webhook_manage)
    organisation_id = principal.require_organisation()
    url = await _vet(data.url, allow_loopback=allow_loopback)
    if (
        await repository.count_endpoints(session, organisation_id=organisation_id)
        >= MAX_ENDPOINTS_PER_ORGANISATION
    ):
        raise Conflict(
            f"an organisation may register at most {MAX_ENDPOINTS_PER_ORGANISATION} webhook endpoints;"
            " delete one first"
        )
    secret = signing.new_secret()
    row = WebhookEndpoint(
        organisation_id=organisation_id,
        url=url,
        description=data.description,
        event_types=[t.value for t in data.event_types],
        secret=secret,
        event_cursor=await repository.feed_top(await driver_connection(session)),
        created_by=principal.sub,
    )
    session.add(row)
    await session.flush()
    _logged(session, principal, "create", row.id)
    return row, secret


async def get_endpoint(
    *, session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID, for_update: bool = False
) -> WebhookEndpoint:
    check(principal, Permission.webhook_manage)
    row = await repository.get_endpoint(
        session,
        organisation_id=principal.require_organisation(),
        endpoint_id=endpoint_id,
        for_update=for_update,
    )
    if row is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return row


async def list_endpoints(
    *, session: AsyncSession, principal: Principal, cursor: str | None, limit: int
) -> Page[WebhookEndpointPublic]:
    check(principal, Permission.webhook_manage)
    rows = await repository.list_endpoints(
        session, organisation_id=principal.require_organisation(), cursor=cursor, limit=limit
    )
    page, next_cursor = split_page(rows, limit)
    return Page[WebhookEndpointPublic](items=[endpoint_public(r) for r in page], next_cursor=next_cursor)


async def update_endpoint(
    *,
    session: AsyncSession,
    principal: Principal,
    endpoint_id: uuid.UUID,
    data: WebhookEndpointUpdate,
    allow_loopback: bool,
) -> WebhookEndpoint:
    """Change what was sent; `enabled: true` re-enables an endpoint and sends what waited."""
    row = await get_endpoint(session=session, principal=principal, endpoint_id=endpoint_id, for_update=True)
    changes = data.changes()
    if "url" in changes:
        row.url = await _vet(changes["url"], allow_loopback=allow_loopback)
    if "event_types" in changes:
        row.event_types = [t.value for t in changes["event_types"]]
    if "description" in changes:
        row.description = changes["description"]
    resumed = changes.get("enabled") is True and not row.enabled
    if "enabled" in changes and changes["enabled"] != row.enabled:
        row.enabled = changes["enabled"]
        row.disabled_at = None if row.enabled else utcnow()
        row.disabled_reason = None if row.enabled else f"disabled by {principal.sub}"
    row.updated_at = utcnow()
    await session.flush()
    if resumed:
        conn = await driver_connection(session)
        await repository.requeue_endpoint_deliveries(conn, row.id)
        await enqueue_delivery(conn, [(row.organisation_id, row.id)], expedite=True)
    _logged(session, principal, "update", row.id)
    return row


async def delete_endpoint(*, session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID) -> None:
    """Gone with its deliveries and their attempts; a run under way stops at its next step."""
    row = await get_endpoint(session=session, principal=principal, endpoint_id=endpoint_id, for_update=True)
    await repository.delete_endpoint(session, organisation_id=row.organisation_id, endpoint_id=row.id)
    _logged(session, principal, "delete", endpoint_id)


async def rotate_secret(
    *, session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID, rotation: SecretRotation
) -> tuple[WebhookEndpoint, str]:
    """A new secret, shown this once. The previous one goes on signing beside it for the overlap,
    so receivers can switch without losing a delivery."""
    row = await get_endpoint(session=session, principal=principal, endpoint_id=endpoint_id, for_update=True)
    secret = signing.new_secret()
    now = utcnow()
    if rotation.overlap_seconds > 0:
        row.previous_secret = row.secret
        row.previous_secret_expires_at = now + timedelta(seconds=rotation.overlap_seconds)
    else:
        row.previous_secret = None
        row.previous_secret_expires_at = None
    row.secret = secret
    row.secret_rotated_at = now
    row.updated_at = now
    await session.flush()
    _logged(session, principal, "rotate_secret", row.id)
    return row, secret


def _delivery_public(row: WebhookDelivery, attempts: list[WebhookAttemptPublic]) -> WebhookDeliveryPublic:
    return WebhookDeliveryPublic(
        id=row.id,
        event_id=str(row.event_id),
        event_type=EventType(row.event_type),
        status=DeliveryStatus(row.status),
        attempt_count=row.attempts,
        next_attempt_at=row.next_attempt_at if row.status == DeliveryStatus.pending else None,
        delivered_at=row.delivered_at,
        created_at=row.created_at,
        attempts=attempts,
    )


def _event_cursor(cursor: str | None) -> int | None:
    values = decode_cursor(cursor, cursor_bigint)
    return None if values is None else int(values[0])


async def list_deliveries(
    *,
    session: AsyncSession,
    principal: Principal,
    endpoint_id: uuid.UUID,
    status: DeliveryStatus | None,
    cursor: str | None,
    limit: int,
) -> Page[WebhookDeliveryPublic]:
    """The endpoint's deliveries, newest first, each with its attempts."""
    endpoint = await get_endpoint(session=session, principal=principal, endpoint_id=endpoint_id)
    rows = await repository.list_deliveries(
        session,
        organisation_id=endpoint.organisation_id,
        endpoint_id=endpoint.id,
        status=status,
        before_event=_event_cursor(cursor),
        limit=limit,
    )
    page = rows[:limit]
    attempts = await repository.attempts_of(
        session, organisation_id=endpoint.organisation_id, delivery_ids=[r.id for r in page]
    )
    next_cursor = encode_cursor([page[-1].event_id]) if len(rows) > limit else None
    items = [
        _delivery_public(
            r, [WebhookAttemptPublic.model_validate(a, from_attributes=True) for a in attempts.get(r.id, [])]
        )
        for r in page
    ]
    return Page[WebhookDeliveryPublic](items=items, next_cursor=next_cursor)


async def redeliver(
    *, session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDeliveryPublic:
    """Send a delivery again (with the same `webhook-id`) on a fresh retry schedule, in its event's
    place in the endpoint's order. A disabled endpoint sends it once re-enabled."""
    endpoint = await get_endpoint(session=session, principal=principal, endpoint_id=endpoint_id)
    row = await repository.get_delivery(
        session, organisation_id=endpoint.organisation_id, endpoint_id=endpoint.id, delivery_id=delivery_id
    )
    if row is None:
        raise NotFound(f"no delivery {delivery_id} of webhook endpoint {endpoint_id}")
    row.status = DeliveryStatus.pending
    row.attempts = 0
    row.next_attempt_at = utcnow()
    await session.flush()
    if endpoint.enabled:
        await enqueue_delivery(
            await driver_connection(session), [(endpoint.organisation_id, endpoint.id)], expedite=True
        )
    _logged(session, principal, "redeliver", endpoint.id)
    return _delivery_public(row, [])
