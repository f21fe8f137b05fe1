"""Every field declares its policy, in the schema itself; refusals are the REST refusals."""

from typing import Any

from graphql import GraphQLInterfaceType, GraphQLObjectType
from strawberry.schema.schema_converter import GraphQLCoreConverter

from service.graphql.permissions import AUTHENTICATED, declared_policy
from service.graphql.schema import schema
from service.policy import Permission

# Fields that expose free text or staff or person identity, on whichever type they appear, and a
# permission each must require.
SENSITIVE_FIELDS: dict[str, Permission] = {
    "text": Permission.touchpoint_read_text,
    "displayName": Permission.staff_identity_read,
    "recordedById": Permission.staff_identity_read,
    "recordedBy": Permission.staff_identity_read,
    "subjectStaffId": Permission.staff_identity_read,
    "subjectStaff": Permission.staff_identity_read,
    "buddyId": Permission.staff_identity_read,
    "buddy": Permission.staff_identity_read,
    "staffMember": Permission.staff_identity_read,
    "staffMemberId": Permission.staff_identity_read,
    "personRefId": Permission.reference_read,
    "personRef": Permission.reference_read,
}


def _policy_of(graphql_field: Any) -> tuple[str, ...] | None:
    definition = (graphql_field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if definition is None:
        return None
    return declared_policy(definition.extensions)


def _object_types() -> list[GraphQLObjectType | GraphQLInterfaceType]:
    return [
        t
        for name, t in schema._schema.type_map.items()
        if not name.startswith("__") and isinstance(t, GraphQLObjectType | GraphQLInterfaceType)
    ]


def test_every_query_and_mutation_field_declares_its_policy() -> None:
    roots = [schema._schema.query_type, schema._schema.mutation_type]
    undeclared = [
        f"{root.name}.{name}"
        for root in roots
        if root is not None
        for name, field in root.fields.items()
        if _policy_of(field) is None
    ]

    assert roots[0] is not None and roots[0].fields
    assert undeclared == [], f"fields without a declared policy: {undeclared}"


def test_every_field_exposing_free_text_or_identity_requires_the_permission_for_it() -> None:
    missing = []
    for type_ in _object_types():
        for name, field in type_.fields.items():
            needed = SENSITIVE_FIELDS.get(name)
            if needed is None:
                continue
            declared = _policy_of(field) or ()
            # Every permission that opens the field must imply the sensitive one.
            if declared == (AUTHENTICATED,) or needed.value not in declared or len(declared) != 1:
                missing.append(f"{type_.name}.{name} declares {declared}, needs {needed.value}")

    assert missing == []


def test_the_policy_shows_in_the_sdl() -> None:
    sdl = schema.as_str()

    assert "directive @policy(needs: [String!]!) on FIELD_DEFINITION" in sdl
    assert 'viewer: Viewer! @policy(needs: ["authenticated"])' in sdl
