"""Pure ASGI middleware that records the request's origin for the access log."""

from starlette.types import ASGIApp, Receive, Scope, Send

from service.audit.context import RequestOrigin, current_origin
from service.observability.context import current_request
from service.observability.request_id import accept_request_id


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
            request_id=_request_id(scope),
        )
        token = current_origin.set(origin)
        try:
            await self.app(scope, receive, send)
        finally:
            current_origin.reset(token)


def _request_id(scope: Scope) -> str:
    context = current_request.get()
    if context is not None:
        return context.request_id
    # Header bytes are not necessarily UTF-8; HTTP reads them as latin-1, and so does Starlette.
    given = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"x-request-id"), None)
    return accept_request_id(given)
