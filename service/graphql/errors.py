"""Errors in GraphQL answers: the REST problem's facts for expected failures, a mask for the rest.

A `ProblemError` raised under a field (forbidden, not found, invalid filter) becomes a GraphQL error
whose `extensions` carry the same `code`, `status`, problem `type` and per-field `errors` as the
REST problem+json body. Anything else is masked: the client sees "Unexpected error." and the
original is logged by Strawberry before masking.
"""

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension

from service.errors import ProblemError

MASKED_MESSAGE = "an unexpected error occurred; it has been logged"


def problem_extensions(problem: ProblemError) -> dict[str, Any]:
    extensions: dict[str, Any] = {
        "code": problem.type_slug.upper().replace("-", "_"),
        "status": problem.status,
        "type": problem.type_uri,
    }
    if problem.errors:
        extensions["errors"] = problem.errors
    extensions.update(problem.extensions)
    return extensions


def is_unexpected(error: GraphQLError) -> bool:
    """Parse and validation errors carry no original error; domain problems are expected."""
    original = error.original_error
    return original is not None and not isinstance(original, ProblemError | GraphQLError)


class ProblemDetails(SchemaExtension):
    """Copies each domain problem's facts into its GraphQL error's `extensions`."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if not errors:
            return
        for error in errors:
            original = error.original_error
            if isinstance(original, ProblemError):
                error.extensions = {**(error.extensions or {}), **problem_extensions(original)}


def error_extensions() -> list[Any]:
    return [
        lambda: MaskErrors(should_mask_error=is_unexpected, error_message=MASKED_MESSAGE),
        ProblemDetails,
    ]
