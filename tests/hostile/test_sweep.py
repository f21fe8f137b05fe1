"""Every route, every parameter, hostile values of its type: a named 4xx or an answer, never a 5xx.

The tables in the other modules hold the cases found by hand; this sweep reads the route table at
run time, so a route or parameter added later is swept too.
"""

import enum
import inspect
import uuid
from datetime import date, datetime
from typing import Any, get_args, get_origin

import httpx
from pydantic import AwareDatetime

from service.errors import PROBLEM_JSON
from service.vocabulary import Role
from tests.hostile.table import NUL, YEAR_END, YEAR_ONE, Hostile
from tests.policy.route_table import RouteCase, current_app, path_parameters, walk

SQL = "' OR '1'='1"
ROLES = (
    Role.registered_manager,
    Role.quality_lead,
    Role.provider_admin,
    Role.platform_admin,
    Role.commissioner,
)
SKIPPED = {
    "/graphql",
    "/v1/auth/token",
}  # their own tables: tests/hostile/test_graphql.py, test_identifiers.py
CASES = [c for c in walk(current_app())[0] if c.path not in SKIPPED and c.dependant is not None]


def _plain(annotation: Any) -> Any:
    while get_origin(annotation) is not None:
        args = [a for a in get_args(annotation) if a is not type(None)]
        if not args:
            return str
        annotation = args[0]
    return annotation


def hostile_values(annotation: Any) -> list[str]:
    kind = _plain(annotation)
    if kind is uuid.UUID:
        return ["not-a-uuid", NUL, SQL]
    if kind is datetime or kind is AwareDatetime:
        return [YEAR_ONE, YEAR_END, "0.5", "2026-01-01T00:00:00", NUL]
    if kind is date:
        return ["0001-01-01", "9999-12-31", "0", NUL]
    if kind is bool:
        return ["maybe", NUL]
    if kind is int:
        return [str(10**30), str(-(10**30)), "1.5", NUL]
    if inspect.isclass(kind) and issubclass(kind, enum.Enum):
        return [SQL, NUL]
    return [NUL, SQL, "x" * 5000]


def role_for(case: RouteCase) -> Role:
    return next((role for role in ROLES if case.allows(role)), Role.platform_admin)


def path_values(hostile: Hostile) -> dict[str, str]:
    names = hostile.names
    return {
        "innovation_id": names["innovation"],
        "service_id": names["service"],
        "staff_member_id": names["staff"],
        "person_ref_id": names["person"],
        "organisation_id": names["org"],
        "key": "system_visibility",
        "source_system": "acme",
        "external_ref": "ref-1",
        "external_id": "ext-1",
    }


def fill(case: RouteCase, values: dict[str, str]) -> str:
    path = case.path
    for name in path_parameters(case):
        value = values.get(name, str(uuid.uuid4()))
        for template in (f"{{{name}}}", f"{{{name}:path}}"):
            path = path.replace(template, value)
    return path


def fault(case: RouteCase, what: str, response: httpx.Response) -> str | None:
    if response.status_code >= 500:
        return f"{case.id} {what}: {response.status_code} {response.text[:200]}"
    if response.status_code >= 400 and response.headers.get("content-type") != PROBLEM_JSON:
        return f"{case.id} {what}: a {response.status_code} that is not problem+json"
    return None


async def test_every_parameter_of_every_route_survives_hostile_values(
    client: httpx.AsyncClient, hostile: Hostile
) -> None:
    found: list[str] = []
    for case in CASES:
        headers = hostile.auth(role_for(case))
        body: dict[str, Any] | None = {} if case.method in ("POST", "PUT", "PATCH") else None
        base = path_values(hostile)
        sends: list[tuple[str, str, dict[str, str]]] = []
        for param in case.dependant.query_params if case.dependant else ():
            for value in hostile_values(param.field_info.annotation):
                sends.append((f"?{param.name}={value[:20]!r}", fill(case, base), {param.name: value}))
        for name, annotation in path_parameters(case).items():
            for value in hostile_values(annotation):
                if value == "x" * 5000 or "/" in value:
                    continue
                sends.append(
                    (f"{{{name}}}={value!r}", fill(case, {**base, name: value.replace(NUL, "%00")}), {})
                )
        for what, path, params in sends:
            response = await client.request(case.method, path, params=params, json=body, headers=headers)
            problem = fault(case, what, response)
            if problem:
                found.append(problem)
    assert found == []
