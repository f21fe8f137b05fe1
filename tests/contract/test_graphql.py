"""Schemathesis over every root field of the GraphQL schema at /graphql, called through the app's ASGI
interface as each caller of the world.

Per response: no 5xx and no masked (unexpected) error; the answer a JSON object that keeps the schema's
promises (no null in a non-null field); every transport-level error problem+json.
"""

from typing import Any

import graphql
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import response_schema_conformance

from service.contract import graphql_sdl
from service.graphql.router import GRAPHQL_PATH
from service.vocabulary import Role
from tests.contract.conftest import CALLER_ROLES, ContractWorld
from tests.contract.support import (
    Tally,
    no_server_error,
    no_unexpected_graphql_error,
    problem_json_errors,
    run_config,
)

CHECKS = [no_server_error, no_unexpected_graphql_error, response_schema_conformance, problem_json_errors]


# The SDL `ingrain openapi` writes (tests/test_contract.py holds it equal to openapi/schema.graphql).
sdl = graphql_sdl()
assert sdl is not None
schema = schemathesis.graphql.from_file(sdl, config=run_config())
schema.location = GRAPHQL_PATH


# Ids of real rows by their name in the world, filled before the first case is generated.
KNOWN: dict[str, str] = {}
# Arguments and input fields that carry an id of the world, by GraphQL name.
KNOWN_BY_NAME = {
    "serviceId": "service_id",
    "recordedById": "staff_member_id",
    "subjectStaffId": "staff_member_id",
    "staffId": "staff_member_id",
    "personRefId": "person_ref_id",
    "innovationId": "innovation_id",
    "touchpointId": "touchpoint_id",
    "organisationId": "organisation_id",
    "providerId": "organisation_id",
}
# What the `id` argument of a root field names.
ID_OF_ROOT_FIELD = {
    "organisation": "organisation_id",
    "service": "service_id",
    "staffMember": "staff_member_id",
    "personRef": "person_ref_id",
    "innovation": "innovation_id",
    "touchpoint": "touchpoint_id",
    "correctTouchpoint": "touchpoint_id",
    "updateInnovation": "innovation_id",
}


@pytest.fixture(scope="module", autouse=True)
def _known_rows(contract_world: ContractWorld) -> None:
    KNOWN.update(contract_world.known)


class _PointAtKnownRows(graphql.Visitor):
    def __init__(self, root_field: str) -> None:
        super().__init__()
        self.root_field = root_field

    def _known(self, name: str, value: graphql.ValueNode) -> graphql.StringValueNode | None:
        key = ID_OF_ROOT_FIELD.get(self.root_field) if name == "id" else KNOWN_BY_NAME.get(name)
        if key is None or key not in KNOWN or not isinstance(value, graphql.StringValueNode):
            return None
        return graphql.StringValueNode(value=KNOWN[key])

    def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> graphql.ArgumentNode | None:
        value = self._known(node.name.value, node.value)
        return None if value is None else graphql.ArgumentNode(name=node.name, value=value)

    def enter_object_field(self, node: graphql.ObjectFieldNode, *_: Any) -> graphql.ObjectFieldNode | None:
        value = self._known(node.name.value, node.value)
        return None if value is None else graphql.ObjectFieldNode(name=node.name, value=value)


@schema.hook
def flatmap_body(context: Any, document: graphql.DocumentNode) -> st.SearchStrategy:
    """Ids name a real row or a generated value, so cases also get past "not found" into the rules."""
    known = graphql.visit(document, _PointAtKnownRows(context.operation.definition.field_name))
    return st.sampled_from([known, document])


@schema.parametrize()
@pytest.mark.parametrize("role", CALLER_ROLES, ids=str)
def test_field(case: schemathesis.Case, role: Role, contract_world: ContractWorld, tally: Tally) -> None:
    with tally.case(role, case):
        case.call_and_validate(app=contract_world.app, headers=contract_world.callers[role], checks=CHECKS)
