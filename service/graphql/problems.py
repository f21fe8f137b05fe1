"""Expected failures of a mutation, as typed results in its payload rather than top-level errors.

Each is the REST problem+json body as a type: the same `type`, `title`, `status`, `detail` and
per-field `errors`, because each is built from the very `ProblemError` the service function raised.
"""

import uuid
from typing import Any

import strawberry
from pydantic import ValidationError

from service.errors import ProblemError, invalid_from_pydantic


@strawberry.type(description="One offending field: where, which rule, and what to do.")
class FieldProblem:
    field: str
    rule: str
    message: str


@strawberry.interface(description="A refusal the client can act on; REST sends it as problem+json.")
class Problem:
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem]


@strawberry.type(description="The input breaks a rule (REST 422).")
class ValidationProblem(Problem):
    pass


@strawberry.type(description="The caller may not do this to this record (REST 403).")
class NotAllowed(Problem):
    pass


@strawberry.type(description="No such record in the caller's scope (REST 404).")
class NotFound(Problem):
    pass


@strawberry.type(description="How to change a record that is already stored.")
class CorrectWith:
    method: str
    href: str


@strawberry.type(description="The record conflicts with one already stored (REST 409).")
class Conflict(Problem):
    existing_id: uuid.UUID | None = strawberry.field(description="The stored record it conflicts with.")
    correct_with: CorrectWith | None = strawberry.field(description="How to correct the stored record.")


@strawberry.type(description="A size limit was exceeded (REST 413); the limit is named with its value.")
class LimitExceeded(Problem):
    limit_name: str | None
    limit_value: int | None


def _common(problem: ProblemError) -> dict[str, Any]:
    return {
        "type": problem.type_uri,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "errors": [FieldProblem(**e) for e in problem.errors or []],
    }


def _as_type(problem: ProblemError) -> Problem | None:
    common = _common(problem)
    if problem.status == 422:
        return ValidationProblem(**common)
    if problem.status == 403:
        return NotAllowed(**common)
    if problem.status == 404:
        return NotFound(**common)
    if problem.status == 409:
        extra = problem.extensions
        correct_with = extra.get("correct_with")
        existing = extra.get("existing_id")
        return Conflict(
            **common,
            existing_id=uuid.UUID(str(existing)) if existing else None,
            correct_with=CorrectWith(**correct_with) if isinstance(correct_with, dict) else None,
        )
    if problem.status == 413:
        limit = problem.extensions.get("limit") or {}
        return LimitExceeded(**common, limit_name=limit.get("name"), limit_value=limit.get("value"))
    return None


def problem_result(problem: ProblemError, *expected: type[Problem]) -> Any:
    """The typed result of an expected failure, if it is one of the field's `expected` results.

    Anything else (unauthenticated, rate limited, a problem the field's union does not name) is
    re-raised and answered as a GraphQL error.
    """
    result = _as_type(problem)
    if result is None or not isinstance(result, expected):
        raise problem
    return result


def validated(model: Any, values: dict[str, Any]) -> Any:
    """`values` through the REST input model: its rules, its messages, its field names."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise invalid_from_pydantic(exc) from None


def item_problem(body: dict[str, Any]) -> Problem:
    """A batch item's stored problem+json body (as REST answered it) as its typed result."""
    known = {"type", "title", "status", "detail", "errors", "instance"}
    problem = ProblemError(
        body["detail"],
        errors=body.get("errors"),
        **{k: v for k, v in body.items() if k not in known},
    )
    problem.status = body["status"]
    problem.title = body["title"]
    problem.type_slug = str(body["type"]).rsplit("/", 1)[-1]
    return problem_result(problem, Problem)
