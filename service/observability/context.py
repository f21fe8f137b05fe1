"""What is known of the HTTP request in flight, for its log lines and its metrics.

The outermost middleware sets one `RequestContext` per request; layers further in fill it in (the
route the router matched, the caller once authenticated). It is one mutable object shared by
reference, so what an inner layer learns reaches the outer one even where a layer in between
copies the ASGI scope (the retry of a unit of work does).
"""

import uuid
from contextvars import ContextVar
from dataclasses import dataclass

from service.auth.principal import Principal


@dataclass(slots=True)
class RequestContext:
    request_id: str
    # The route's template (`/v1/innovations/{innovation_id}/status`), never the path asked for.
    route: str | None = None
    organisation_id: uuid.UUID | None = None
    roles: str | None = None


current_request: ContextVar[RequestContext | None] = ContextVar("current_request", default=None)


def note_principal(principal: Principal) -> None:
    """The caller's organisation and roles, for the request's log lines (never its token or `sub`)."""
    context = current_request.get()
    if context is not None:
        context.organisation_id = principal.organisation_id
        context.roles = principal.role_label


def described_request(method: str | None) -> str:
    """The request in flight for a log line: its method and route template, never its path, which
    may name a record (a person's reference, say)."""
    context = current_request.get()
    return f"{method} {context.route if context is not None and context.route else '(no route matched)'}"
