"""Pure ASGI middleware that records the request's origin for the access log."""

import re
import uuid

from starlette.types import ASGIApp, Receive, Scope, Send

from service.audit.context import RequestOrigin, current_origin

# A request id worth keeping: printable ASCII, as tracing systems issue them.
REQUEST_ID = re.compile(r"[\x21-\x7e]{1,200}")


class RequestOriginMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Header bytes are not necessarily UTF-8; HTTP reads them as latin-1, and so does Starlette.
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        client = scope.get("client")
        given = headers.get("x-request-id", "")
        origin = RequestOrigin(
            method=scope.get("method"),
            # The access log stores these as text: no NUL, which Postgres refuses.
            path=str(scope.get("path", "")).replace("\x00", "\ufffd"),
            ip=client[0] if client else None,
            request_id=given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex,
        )
        token = current_origin.set(origin)
        try:
            await self.app(scope, receive, send)
        finally:
            current_origin.reset(token)
