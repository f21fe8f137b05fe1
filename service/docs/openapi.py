"""What the OpenAPI document says beyond the routes themselves: its server, the operations open
without a token, and what each tag groups (Redocly's and Spectral's rulesets ask for all three)."""

from collections.abc import Sequence
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from service.policy import declared_policies

# Relative: the API is at the address that served the document, whatever the deployment calls it.
DEFAULT_SERVERS = [{"url": "/", "description": "The address this document was read from."}]

TAG_DESCRIPTIONS = {
    "operations": "Liveness, readiness and metrics for the platform that runs the service; no token.",
    "authentication": "Integration clients, the tokens they are issued and the keys that verify them.",
    "organisations": "Providers, commissioners and regulators; who commissions whom, and the regulator's "
    "time-limited access grants.",
    "users": "The people of an organisation and the roles they hold.",
    "services": "A provider's care services, each with its time zone and shift pattern.",
    "staff": "Staff members, the services they work at and when they started and left.",
    "people": "References to the people supported (an external reference, never a name).",
    "innovations": "New ways of working a provider is embedding, at which services, since when.",
    "touchpoints": "The everyday records where an innovation shows up: recorded one at a time or in "
    "batches, corrected with their earlier versions kept as revisions.",
    "status": "Whether each innovation is embedded, indicator by indicator, with the touchpoints behind "
    "each and the thresholds it is judged against.",
    "evidence pack": "An innovation's status as a printable document.",
    "portfolio": "The status of every provider a commissioner commissions, and its changes.",
    "events": "Changes of stage and of indicator RAG, in order, for clients that poll.",
    "webhooks": "Endpoints that are sent those events as they happen, signed, with their deliveries.",
    "access log": "Who read or changed what, for the organisation's own audit.",
}


def describe_tags(schema: dict[str, Any]) -> list[dict[str, str]]:
    """Every tag the operations use, in order of first use, with its description where it has one."""
    used: dict[str, None] = {}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            used.update(dict.fromkeys(operation.get("tags", ())))
    return [{"name": tag, **_description(tag)} for tag in used]


def _description(tag: str) -> dict[str, str]:
    description = TAG_DESCRIPTIONS.get(tag)
    return {"description": description} if description else {}


def declare_public_operations(schema: dict[str, Any], routes: Sequence[BaseRoute]) -> None:
    """An operation whose route declares `public()` says so with an empty `security`: it takes no
    token (the others name the bearer scheme already, through their dependency)."""
    for route in iter_route_contexts(routes):
        dependant: Dependant | None = getattr(route, "dependant", None)
        if not isinstance(route.original_route, APIRoute) or dependant is None or not route.path_format:
            continue
        if "public" not in declared_policies(dependant):
            continue
        path_item = schema.get("paths", {}).get(route.path_format, {})
        for method in route.methods or ():
            operation = path_item.get(method.lower())
            if operation is not None:
                operation["security"] = []
