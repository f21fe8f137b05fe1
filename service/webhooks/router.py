"""REST for webhook endpoints (an organisation's admin): register, read, change, delete, rotate the
secret, read deliveries and redeliver one."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response, status

from service.auth.principal import Principal
from service.dependencies import SessionDep, SettingsDep, require
from service.pagination import CursorParam, LimitParam, Page
from service.policy import Permission
from service.reference.routing import problems, set_location
from service.touchpoints.limits import BodyLimitedRoute
from service.webhooks import service
from service.webhooks.schemas import (
    SecretRotation,
    WebhookDeliveryPublic,
    WebhookEndpointCreate,
    WebhookEndpointPublic,
    WebhookEndpointUpdate,
    WebhookEndpointWithSecret,
)
from service.webhooks.vocabulary import DeliveryStatus

router = APIRouter(prefix="/webhook-endpoints", tags=["webhooks"], route_class=BodyLimitedRoute)

WebhookManager = Annotated[Principal, Depends(require(Permission.webhook_manage))]
EndpointId = Annotated[uuid.UUID, Path(description="The webhook endpoint.")]


def _with_secret(public: WebhookEndpointPublic, secret: str) -> WebhookEndpointWithSecret:
    return WebhookEndpointWithSecret(**public.model_dump(), secret=secret)


@router.post(
    "",
    operation_id="create_webhook_endpoint",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookEndpointWithSecret,
    responses=problems(409),
    summary="Register a webhook endpoint",
)
async def create_webhook_endpoint(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: WebhookManager,
    settings: SettingsDep,
    data: WebhookEndpointCreate,
) -> WebhookEndpointWithSecret:
    """It receives the events of `event_types` written from now on, that the caller's organisation
    may read. The answer holds `secret`, shown this once. The URL must be `https://` and resolve
    only to public addresses."""
    row, secret = await service.create_endpoint(
        session=session, principal=principal, data=data, allow_loopback=settings.webhooks_allow_loopback
    )
    set_location(request, response, "get_webhook_endpoint", endpoint_id=str(row.id))
    return _with_secret(service.endpoint_public(row), secret)


@router.get(
    "",
    operation_id="list_webhook_endpoints",
    response_model=Page[WebhookEndpointPublic],
    responses=problems(),
    summary="The organisation's webhook endpoints",
)
async def list_webhook_endpoints(
    session: SessionDep, principal: WebhookManager, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[WebhookEndpointPublic]:
    return await service.list_endpoints(session=session, principal=principal, cursor=cursor, limit=limit)


@router.get(
    "/{endpoint_id}",
    name="get_webhook_endpoint",
    operation_id="get_webhook_endpoint",
    response_model=WebhookEndpointPublic,
    responses=problems(),
    summary="One webhook endpoint",
)
async def get_webhook_endpoint(
    endpoint_id: EndpointId, session: SessionDep, principal: WebhookManager
) -> WebhookEndpointPublic:
    row = await service.get_endpoint(session=session, principal=principal, endpoint_id=endpoint_id)
    return service.endpoint_public(row)


@router.patch(
    "/{endpoint_id}",
    operation_id="update_webhook_endpoint",
    response_model=WebhookEndpointPublic,
    responses=problems(),
    summary="Change, pause or re-enable a webhook endpoint",
)
async def update_webhook_endpoint(
    endpoint_id: EndpointId,
    session: SessionDep,
    principal: WebhookManager,
    settings: SettingsDep,
    data: WebhookEndpointUpdate,
) -> WebhookEndpointPublic:
    """Only the fields sent change. `enabled: true` re-enables an endpoint disabled after failing
    for days: what waited in the meantime is sent, oldest first."""
    row = await service.update_endpoint(
        session=session,
        principal=principal,
        endpoint_id=endpoint_id,
        data=data,
        allow_loopback=settings.webhooks_allow_loopback,
    )
    return service.endpoint_public(row)


@router.delete(
    "/{endpoint_id}",
    operation_id="delete_webhook_endpoint",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problems(),
    summary="Delete a webhook endpoint and its deliveries",
)
async def delete_webhook_endpoint(
    endpoint_id: EndpointId, session: SessionDep, principal: WebhookManager
) -> Response:
    await service.delete_endpoint(session=session, principal=principal, endpoint_id=endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{endpoint_id}/rotate-secret",
    operation_id="rotate_webhook_endpoint_secret",
    response_model=WebhookEndpointWithSecret,
    responses=problems(),
    summary="Give a webhook endpoint a new secret",
)
async def rotate_webhook_endpoint_secret(
    endpoint_id: EndpointId,
    session: SessionDep,
    principal: WebhookManager,
    rotation: Annotated[SecretRotation | None, Body(description="Omit for a 24-hour overlap.")] = None,
) -> WebhookEndpointWithSecret:
    """The new secret is shown this once. During the overlap every delivery carries a signature
    by each secret, so a receiver verifies with either."""
    row, secret = await service.rotate_secret(
        session=session, principal=principal, endpoint_id=endpoint_id, rotation=rotation or SecretRotation()
    )
    return _with_secret(service.endpoint_public(row), secret)


@router.get(
    "/{endpoint_id}/deliveries",
    operation_id="list_webhook_deliveries",
    response_model=Page[WebhookDeliveryPublic],
    responses=problems(),
    summary="A webhook endpoint's deliveries and their attempts",
)
async def list_webhook_deliveries(
    endpoint_id: EndpointId,
    session: SessionDep,
    principal: WebhookManager,
    delivery_status: Annotated[
        DeliveryStatus | None, Query(alias="status", description="Only deliveries in this state.")
    ] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[WebhookDeliveryPublic]:
    """Newest first, each with its attempts: status, latency and the start of the answer."""
    return await service.list_deliveries(
        session=session,
        principal=principal,
        endpoint_id=endpoint_id,
        status=delivery_status,
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    operation_id="redeliver_webhook_delivery",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WebhookDeliveryPublic,
    responses=problems(),
    summary="Send a delivery again",
)
async def redeliver_webhook_delivery(
    endpoint_id: EndpointId,
    delivery_id: Annotated[uuid.UUID, Path(description="The delivery.")],
    session: SessionDep,
    principal: WebhookManager,
) -> WebhookDeliveryPublic:
    """Queued at once with a fresh retry schedule and the same `webhook-id`, in its event's place
    in the endpoint's order."""
    return await service.redeliver(
        session=session, principal=principal, endpoint_id=endpoint_id, delivery_id=delivery_id
    )
