"""The GraphQL request equivalent to `GET /v1/innovations/{id}/status`: the whole status, every field.

The selection is built from the schema itself (every field that takes no required argument, down
to the leaves), so the GraphQL read asks for what the REST one returns and keeps doing so as the
types grow. None when the schema has no status field yet.
"""

import uuid
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
)

from bench.status_http import Request

STATUS_FIELD = "innovationStatus"
STAGES = {"NOT_STARTED", "PILOT", "EMBEDDING", "EMBEDDED", "AT_RISK", "FADING"}


def _takes_no_required_argument(field: GraphQLField) -> bool:
    return not any(is_non_null_type(arg.type) and arg.default_value is None for arg in field.args.values())


def selection(schema: GraphQLSchema, type_: Any, depth: int = 0) -> str:
    """`{ … }` selecting every field of `type_` (fragments for each member of a union or interface)."""
    named = get_named_type(type_)
    if is_leaf_type(named):
        return ""
    if depth > 8:
        raise ValueError(f"the status type nests deeper than expected at {named}")
    if is_abstract_type(named):
        members = schema.get_possible_types(named)
        fragments = " ".join(f"... on {m.name} {selection(schema, m, depth + 1)}" for m in members)
        return f"{{ __typename {fragments} }}"
    assert isinstance(named, GraphQLObjectType)
    parts = [
        f"{name} {selection(schema, field.type, depth + 1)}".strip()
        for name, field in named.fields.items()
        if _takes_no_required_argument(field)
    ]
    return "{ " + " ".join(parts) + " }"


def status_query(schema: GraphQLSchema) -> str | None:
    query_type = schema.query_type
    field = query_type.fields.get(STATUS_FIELD) if query_type is not None else None
    if field is None or not is_object_type(get_named_type(field.type)):
        return None
    id_type = field.args["innovationId"].type
    return (
        f"query BenchStatus($innovationId: {id_type}) "
        f"{{ {STATUS_FIELD}(innovationId: $innovationId) {selection(schema, field.type)} }}"
    )


def _check(body: Any) -> None:
    if body.get("errors"):
        raise RuntimeError(f"GraphQL status: {body['errors']}")
    status = body["data"][STATUS_FIELD]
    assert str(status["stage"]).upper() in STAGES, status["stage"]
    assert len(status["indicators"]) == 8, "a status has eight indicators"


def graphql_status_request(innovation_id: uuid.UUID) -> Request | None:
    from service.graphql.schema import schema

    query = status_query(build_schema(schema.as_str()))
    if query is None:
        return None
    return Request(
        "POST /graphql innovationStatus",
        "POST",
        "/graphql",
        json={"query": query, "variables": {"innovationId": str(innovation_id)}},
        check=_check,
    )
