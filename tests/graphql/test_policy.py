"""Every field declares its policy, in the schema itself; refusals are the REST refusals."""

from typing import Any

from graphql import GraphQLInterfaceType, GraphQLObjectType
from strawberry.schema.schema_converter import GraphQLCoreConverter

from service.graphql.permissions import AUTHENTICATED, declared_policy
from service.graphql.schema import schema
from service.policy import ROLE_PERMISSIONS, Permission
from service.touchpoints.validation import facts as facts_schemas
from service.vocabulary import Role
from tests.graphql.touchpoint_inputs import camel

# Fields that expose free text or staff or person identity: by name on any type, or `Type.field`.
SENSITIVE_FIELDS = {
    "text",
    "displayName",
    "StaffMember.externalRef",
    "PersonRef.externalRef",
    "recordedById",
    "recordedBy",
    "subjectStaffId",
    "subjectStaff",
    "buddyId",
    "buddy",
    "personRefId",
    "personRef",
}
# Facts marked free text in the facts schemas, by their GraphQL names (`DailyNoteFacts.activity`).
SENSITIVE_FIELDS |= {
    f"{model.__name__}.{camel(name)}"
    for model in vars(facts_schemas).values()
    if isinstance(model, type) and issubclass(model, facts_schemas.Facts)
    for name, field in model.model_fields.items()
    if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get(facts_schemas.FREE_TEXT)
}
# Roles that never see free text or staff or person identity (DOMAIN.md, roles).
CLOSED_ROLES = (Role.commissioner, Role.inspector, Role.platform_admin)


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


def test_every_field_exposing_free_text_or_identity_is_closed_to_roles_that_may_not_see_it() -> None:
    checked, open_fields = [], []
    for type_ in _object_types():
        for name, field in type_.fields.items():
            if name not in SENSITIVE_FIELDS and f"{type_.name}.{name}" not in SENSITIVE_FIELDS:
                continue
            checked.append(f"{type_.name}.{name}")
            declared = _policy_of(field) or ()
            opened_to = [
                role.value
                for role in CLOSED_ROLES
                if AUTHENTICATED in declared or any(Permission(p) in ROLE_PERMISSIONS[role] for p in declared)
            ]
            if not declared or opened_to:
                open_fields.append(f"{type_.name}.{name} declares {declared}, open to {opened_to}")

    assert "StaffMember.displayName" in checked
    assert {"DailyNoteFacts.activity", "AuditFacts.tool"} <= set(checked), checked
    assert open_fields == []


def test_the_policy_shows_in_the_sdl() -> None:
    sdl = schema.as_str()

    assert "directive @policy(needs: [String!]!) on FIELD_DEFINITION" in sdl
    assert 'viewer: Viewer! @policy(needs: ["authenticated"])' in sdl
