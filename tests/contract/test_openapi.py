"""Schemathesis over every REST operation of the app's OpenAPI document, called through the app's
ASGI interface (no socket) as each caller of the world.

Per response: no 5xx; the status, media type and body documented for the operation; every error
problem+json. Generation is derandomised and bounded, so a run is the same run every time.
"""

from typing import Any

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from service.contract import openapi_document
from service.vocabulary import Role
from tests.contract.conftest import CALLER_ROLES, ContractWorld
from tests.contract.support import Tally, problem_json_errors, run_config

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    problem_json_errors,
]


# The document `ingrain openapi` writes (tests/test_contract.py holds it equal to openapi/openapi.json).
schema = schemathesis.openapi.from_dict(openapi_document(), config=run_config())

# Ids of real rows by parameter name, filled from the world before the first case is generated.
KNOWN: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def _known_rows(contract_world: ContractWorld) -> None:
    KNOWN.update(contract_world.known)


@schema.hook
def flatmap_path_parameters(context: Any, parameters: dict[str, Any] | None) -> st.SearchStrategy:
    """Paths name a real row or a generated value, so cases also get past 404 into the route's rules."""
    if not parameters:
        return st.just(parameters)
    known = {name: KNOWN.get(name, value) for name, value in parameters.items()}
    return st.sampled_from([known, parameters])


@schema.parametrize()
@pytest.mark.parametrize("role", CALLER_ROLES, ids=str)
def test_operation(case: schemathesis.Case, role: Role, contract_world: ContractWorld, tally: Tally) -> None:
    with tally.case(role, case):
        case.call_and_validate(app=contract_world.app, headers=contract_world.callers[role], checks=CHECKS)
