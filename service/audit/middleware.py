"""Pure ASGI middleware that records the request's origin for the access log."""

import uuid

from starlette.types import ASGIApp, Receive, Scope, Send

from service.audit.context import RequestOrigin, current_origin
from service.observability.context import current_request


class RequestOriginMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        origin = RequestOrigin(
            method=scope.get("method"),
            # The access log stores these as text: no NUL, which Postgres refuses.
            path=str(scope.get("path", "")).replace("\x00", "\ufffd"),
            ip=client[0] if client else None,
            # The id the answer carries (service.observability), so a log line and an access-log
            # entry of one request are found together.
            request_id=_request_id(),
        )
        token = current_origin.set(origin)
        try:
            await self.app(scope, receive, send)
        finally:
            current_origin.reset(token)


def _request_id() -> str:
    # RequestObservation (service.observability) runs outside this and has accepted or made the id.
    context = current_request.get()
    return context.request_id if context is not None else uuid.uuid4().hex
