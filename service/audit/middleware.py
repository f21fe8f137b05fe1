"""Pure ASGI middleware that records the request's origin for the access log."""

import uuid

from starlette.types import ASGIApp, Receive, Scope, Send

from service.audit.context import RequestOrigin, current_origin


class RequestOriginMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        client = scope.get("client")
        origin = RequestOrigin(
            method=scope.get("method"),
            path=scope.get("path"),
            ip=client[0] if client else None,
            request_id=headers.get("x-request-id") or uuid.uuid4().hex,
        )
        token = current_origin.set(origin)
        try:
            await self.app(scope, receive, send)
        finally:
            current_origin.reset(token)
