"""Hostile GraphQL: NUL in arguments and variables, dates and numbers out of range, cursors, depth.

Each row must be answered with an error that names its rule (a typed problem for mutation inputs),
never the masked "unexpected error" of a fault.
"""

import base64
from dataclasses import dataclass
from typing import Any

import httpx

from service.graphql.errors import MASKED_MESSAGE
from tests.graphql.helpers import graphql
from tests.hostile.table import NUL, YEAR_END, YEAR_ONE, Hostile


@dataclass(frozen=True)
class GraphQLRow:
    id: str
    query: str
    rule: str
    variables: dict[str, Any] | None = None
    role: str = "quality_lead"


def status_query(args: str, declared: str = "") -> str:
    return f"query ($id: UUID!{declared}) {{ innovationStatus(innovationId: $id, {args}) {{ stage }} }}"


def bad_cursor(values: str) -> str:
    return base64.urlsafe_b64encode(values.encode()).decode().rstrip("=")


ROWS = [
    GraphQLRow(
        "NUL literal filter",
        'query { touchpoints(sourceSystem: "a\\u0000") { edges { cursor } } }',
        "nul_character",
    ),
    GraphQLRow(
        "NUL variable filter",
        "query ($s: String) { touchpoints(sourceSystem: $s) { edges { cursor } } }",
        "nul_character",
        {"s": f"acme{NUL}"},
    ),
    GraphQLRow(
        "NUL people filter",
        "query ($r: String) { people(externalRef: $r) { edges { cursor } } }",
        "nul_character",
        {"r": NUL},
        "provider_admin",
    ),
    GraphQLRow(
        "NUL cursor",
        "query ($c: String) { services(after: $c) { edges { cursor } } }",
        "nul_character",
        {"c": NUL},
    ),
    GraphQLRow(
        "numbers cursor",
        f'query {{ services(after: "{bad_cursor("[1,2]")}") {{ edges {{ cursor }} }} }}',
        "cursor_invalid",
    ),
    GraphQLRow(
        "status cursor",
        f'query {{ statuses(after: "{bad_cursor("[null,7]")}") {{ edges {{ cursor }} }} }}',
        "cursor_invalid",
    ),
    GraphQLRow(
        "asOf in year 1", status_query(f'asOf: "{YEAR_ONE}"'), "date_out_of_range", {"id": "{innovation}"}
    ),
    GraphQLRow(
        "knownAt at the end",
        status_query(f'knownAt: "{YEAR_END}"'),
        "date_out_of_range",
        {"id": "{innovation}"},
    ),
    GraphQLRow(
        "knownAt a number literal", status_query('knownAt: "0.5"'), "iso8601_required", {"id": "{innovation}"}
    ),
    GraphQLRow(
        "knownAt a number variable",
        status_query("knownAt: $k", ", $k: DateTime"),
        "iso8601_required",
        {"id": "{innovation}", "k": 0.5},
    ),
    GraphQLRow(
        "asOf naive", status_query('asOf: "2026-01-01T00:00:00"'), "timezone_required", {"id": "{innovation}"}
    ),
    GraphQLRow(
        "occurredFrom at the end",
        f'query {{ touchpoints(occurredFrom: "{YEAR_END}") {{ edges {{ cursor }} }} }}',
        "date_out_of_range",
    ),
    GraphQLRow(
        "activeOn in year 1",
        'query { staff(activeOn: "0001-01-01") { edges { cursor } } }',
        "date_out_of_range",
        role="provider_admin",
    ),
    GraphQLRow(
        "portfolio since",
        'query { portfolioChanges(since: "0001-01-01") { edges { cursor } } }',
        "date_out_of_range",
        role="commissioner",
    ),
    GraphQLRow(
        "innovation started in year 1",
        'mutation { createInnovation(input: {name: "x", why: "y", startedOn: "0001-01-01", serviceIds: []})'
        " { __typename } }",
        "date_out_of_range",
    ),
    GraphQLRow(
        "touchpoint in year 1",
        "mutation ($t: TouchpointInput!) { recordTouchpoint(touchpoint: $t) { __typename } }",
        "date_out_of_range",
        {
            "t": {
                "dailyNote": {
                    "serviceId": "{service}",
                    "occurredAt": YEAR_ONE,
                    "recordedById": "{manager}",
                    "personRefId": "{person}",
                    "facts": {"activity": "a", "engagementQuality": 3},
                }
            }
        },
        "registered_manager",
    ),
    GraphQLRow(
        "first beyond Int", f"query {{ services(first: {2**31}) {{ edges {{ cursor }} }} }}", "32-bit"
    ),
    GraphQLRow(
        "windowDays huge variable",
        "query ($id: UUID!, $w: Int!) { innovationStatus(innovationId: $id, windowDays: $w) { stage } }",
        "32-bit",
        {"id": "{innovation}", "w": 10**30},
    ),
    GraphQLRow(
        "deep list variable",
        "query ($v: [[String]]) { services(sourceSystem: $v) { edges { cursor } } }",
        "String",
        {"v": [[[[[[["x"]]]]]]]},
    ),
    GraphQLRow("deep selection", "query { " + "viewer { " * 2000 + "}" * 2000 + " }", "nested too deeply"),
    GraphQLRow("deep list literal", status_query("knownAt: " + "[" * 1400 + "]" * 1400), "nested too deeply"),
]


def rules_of(error: dict[str, Any]) -> set[str]:
    extensions = error.get("extensions") or {}
    found = {extensions.get("rule"), extensions.get("code")}
    found |= {e.get("rule") for e in extensions.get("errors") or []}
    return {rule for rule in found if rule}


def mismatch(row: GraphQLRow, body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    if not errors:
        return f"{row.id}: no error: {body}"
    if any(e.get("message") == MASKED_MESSAGE for e in errors):
        return f"{row.id}: a masked fault: {errors}"
    if not any(row.rule in rules_of(e) or row.rule in e.get("message", "") for e in errors):
        return f"{row.id}: no error names {row.rule!r}: {errors}"
    return None


async def test_graphql_rows_are_refused_naming_the_rule(client: httpx.AsyncClient, hostile: Hostile) -> None:
    found = []
    for row in ROWS:
        body = await graphql(
            client, hostile.fill(row.query), hostile.auth(row.role), hostile.fill(row.variables)
        )
        problem = mismatch(row, body)
        if problem:
            found.append(problem)
    assert found == []


async def test_mutation_inputs_holding_nul_are_typed_problems(
    client: httpx.AsyncClient, hostile: Hostile
) -> None:
    create = """mutation ($input: InnovationCreateInput!) {
      createInnovation(input: $input) { __typename ... on ValidationProblem { status errors { field rule } } }
    }"""
    variables = {
        "input": {"name": f"x{NUL}", "why": "y", "startedOn": "2025-01-01", "serviceIds": ["{service}"]}
    }

    body = await graphql(client, create, hostile.auth("quality_lead"), hostile.fill(variables))

    result = body["data"]["createInnovation"]
    assert result["__typename"] == "ValidationProblem"
    assert result["status"] == 422
    assert {"field": "name", "rule": "nul_character"} in result["errors"]


async def test_variables_nested_100000_deep_are_refused_before_parsing(
    client: httpx.AsyncClient, hostile: Hostile
) -> None:
    body = b'{"query": "query ($v: String) { viewer { roles } }", "variables": {"v": ' + b"[" * 100_000
    body += b"]" * 100_000 + b"}}"
    headers = {**hostile.auth("quality_lead"), "content-type": "application/json"}

    response = await client.post("/graphql", content=body, headers=headers)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0] == {
        "field": "body",
        "rule": "max_json_depth",
        "message": response.json()["errors"][0]["message"],
    }
