"""Errors in GraphQL answers: the REST problem's facts for expected failures, a mask for the rest.

A `ProblemError` raised under a field (forbidden, not found, invalid filter) becomes a GraphQL error
whose `extensions` carry the same `code`, `status`, problem `type` and per-field `errors` as the
REST problem+json body. The database being unavailable is not a fault of ours: its error becomes
REST's 503 problem (`code` `UNAVAILABLE`), and the HTTP endpoint answers the whole operation with
that problem (see `service.graphql.router`). Anything else is masked: the client sees "Unexpected
error." and the original is logged by Strawberry before masking.
"""

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension

from service.availability import is_database_unavailable
from service.errors import ProblemError, Unavailable

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
    """Parse and validation errors carry no original error; domain problems are expected, and so
    is the database being unavailable."""
    original = error.original_error
    if original is None or isinstance(original, ProblemError | GraphQLError):
        return False
    return not is_database_unavailable(original)


def is_unavailable(error: GraphQLError) -> bool:
    original = error.original_error
    if isinstance(original, ProblemError):
        return isinstance(original, Unavailable)
    return original is not None and is_database_unavailable(original)


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
            if original is not None and not isinstance(original, ProblemError) and is_unavailable(error):
                # The driver's message names hosts and sockets: the client gets REST's problem instead.
                settings = self.execution_context.context.settings
                original = Unavailable.database(settings.unavailable_retry_after_seconds)
                error.message = original.detail
            if isinstance(original, ProblemError):
                error.extensions = {**(error.extensions or {}), **problem_extensions(original)}


def error_extensions() -> list[Any]:
    return [
        lambda: MaskErrors(should_mask_error=is_unexpected, error_message=MASKED_MESSAGE),
        ProblemDetails,
    ]
