"""Every GraphQL query field, asked for everything it can answer (to a depth), from the schema itself.

Root fields are filled with arguments from seeded values by argument name (`id` by the field's name:
`touchpoint(id:)` gets a touchpoint's id); a root field with a required argument nothing fills is
skipped. Inside, fields with required arguments are left out, interfaces and unions are asked for
every type they may be (with each type's fields aliased by type, so differing shapes never clash).
Fields added later are crawled automatically.
"""

from collections.abc import Iterator
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.pyutils import Undefined


def _required(field: GraphQLField) -> list[str]:
    return [
        name
        for name, argument in field.args.items()
        if is_non_null_type(argument.type) and argument.default_value is Undefined
    ]


def _fields(
    schema: GraphQLSchema, type_: Any, depth: int, *, prefix: str = "", skip: frozenset[str] = frozenset()
) -> str | None:
    """The selection set asking for every field of `type_` to `depth` levels, or None when empty."""
    named = get_named_type(type_)
    if is_leaf_type(named):
        return ""
    if depth == 0:
        return None
    parts: list[str] = []
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        for name, field in named.fields.items():
            if name in skip or _required(field):
                continue
            sub = _fields(schema, field.type, depth - 1)
            if sub is not None:
                parts.append(f"{prefix}{name}: {name}{sub}" if prefix else f"{name}{sub}")
    if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
        # An interface's own fields are asked once, above; each type adds only its own.
        shared = frozenset(named.fields) if isinstance(named, GraphQLInterfaceType) else frozenset()
        for possible in schema.get_possible_types(named):
            sub = _fields(schema, possible, depth, prefix=f"{possible.name}_", skip=shared)
            if sub:
                parts.append(f"... on {possible.name} {sub}")
    return "{ " + " ".join(parts) + " }" if parts else None


def root_queries(
    schema: GraphQLSchema, values: dict[str, list[Any]], *, depth: int
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(root field, query, variables) for every query field, once per combination of seeded arguments.

    `values` maps an argument name (or `field.id` for an `id` argument) to the values to try.
    """
    query_type = schema.query_type
    assert query_type is not None
    for name, field in query_type.fields.items():
        variants: list[dict[str, Any]] = [{}]
        for argument_name, argument in field.args.items():
            key = f"{name}.{argument_name}" if argument_name == "id" else argument_name
            options = values.get(key)
            if options is None:
                if is_non_null_type(argument.type) and argument.default_value is Undefined:
                    break
                continue
            variants = [{**v, argument_name: option} for v in variants for option in options]
        else:
            selection = _fields(schema, field.type, depth)
            if selection is None:
                continue
            for arguments in variants:
                declared = ", ".join(f"${k}: {field.args[k].type}" for k in arguments)
                passed = ", ".join(f"{k}: ${k}" for k in arguments)
                head = f"query Crawl({declared})" if declared else "query Crawl"
                call = f"{name}({passed})" if passed else name
                yield name, f"{head} {{ {call} {selection} }}", arguments
