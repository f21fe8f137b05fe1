"""Where a request came from, kept for the access log without threading it through every call."""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestOrigin:
    method: str | None = None
    path: str | None = None
    ip: str | None = None
    request_id: str | None = None


NO_ORIGIN = RequestOrigin()
current_origin: ContextVar[RequestOrigin] = ContextVar("current_origin", default=NO_ORIGIN)
