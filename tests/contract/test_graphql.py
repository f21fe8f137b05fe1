"""Schemathesis over every root field of the GraphQL schema at /graphql, called through the app's ASGI
interface as each caller of the world.

Per response: no 5xx and no masked (unexpected) error; the answer a JSON object that keeps the schema's
promises (no null in a non-null field); every transport-level error problem+json.
"""

import pytest
import schemathesis
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


@schema.parametrize()
@pytest.mark.parametrize("role", CALLER_ROLES, ids=str)
def test_field(case: schemathesis.Case, role: Role, contract_world: ContractWorld, tally: Tally) -> None:
    with tally.case(role, case):
        case.call_and_validate(app=contract_world.app, headers=contract_world.callers[role], checks=CHECKS)
