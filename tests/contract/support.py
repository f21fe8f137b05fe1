"""What both Schemathesis modules share: the run's configuration, the checks beyond the built-in ones,
and the tally of cases and failures."""

import json
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import schemathesis
from schemathesis.errors import FailureGroup

from service.graphql.errors import MASKED_MESSAGE

# The bounded run `make test` makes: derandomised, 10 generated cases per operation and caller.
# `INGRAIN_CONTRACT_DEEP=1` adds Schemathesis' coverage phase (boundary values of every parameter and
# body field: about 30,000 REST cases, a quarter of an hour on 2 cores) and fuzzes 50 cases instead of
# 10, to look deeper by hand.
DEEP = os.environ.get("INGRAIN_CONTRACT_DEEP") == "1"


def run_config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "generation": {
                "max-examples": 50 if DEEP else 10,
                "deterministic": True,
                # NUL characters included: every text field refuses them by name.
                "allow-x00": True,
            },
            "phases": {"coverage": {"enabled": DEEP}, "stateful": {"enabled": False}},
        }
    )


PROBLEM_JSON = "application/problem+json"
PROBLEM_FIELDS = (("type", str), ("title", str), ("status", int), ("detail", str))
# RFC 6749 §5.2 fixes the token endpoint's errors as application/json `{"error", "error_description"}`,
# which OAuth client libraries parse: the one operation whose errors are documented otherwise.
OAUTH_ERRORS = {"POST /v1/auth/token"}


def problem_json_errors(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> bool | None:
    """Every 4xx and 5xx is RFC 9457 problem+json carrying what the Problem schema requires."""
    del ctx
    if response.status_code < 400 or case.operation.label in OAUTH_ERRORS:
        return None
    content_type = response.headers.get("content-type") or [""]
    media_type = content_type[0].split(";")[0].strip()
    assert media_type == PROBLEM_JSON, (
        f"{response.status_code} answered as {media_type!r}, not {PROBLEM_JSON}"
    )
    body = json.loads(response.content)
    assert isinstance(body, dict), "a problem is a JSON object"
    for name, kind in PROBLEM_FIELDS:
        value = body.get(name)
        assert isinstance(value, kind) and not isinstance(value, bool), (
            f"problem.{name} is missing or not a {kind.__name__}"
        )
    assert body["status"] == response.status_code, "problem.status differs from the HTTP status"
    errors = body.get("errors", [])
    assert isinstance(errors, list), "problem.errors is not a list"
    for item in errors:
        assert isinstance(item, dict) and {"field", "rule", "message"} <= item.keys(), (
            "each problem.errors entry names its field, rule and message"
        )
    return True


def no_server_error(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> bool | None:
    """No 5xx, judged by the status alone (the built-in check also counts every GraphQL error)."""
    del ctx, case
    assert response.status_code < 500, f"server error {response.status_code}"
    return True


def no_unexpected_graphql_error(
    ctx: Any, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """No GraphQL error is the mask over an unexpected one (GraphQL's 500). Refusals the client can act on
    (not found, forbidden, invalid input, a query over the limits) are expected answers to generated input."""
    del ctx, case
    if response.status_code != 200:
        return None
    body = json.loads(response.content)
    masked = [e for e in body.get("errors") or [] if e.get("message") == MASKED_MESSAGE]
    assert not masked, f"unexpected error at {[e.get('path') for e in masked]}"
    return True


class Tally:
    """Cases run and distinct failures found, by caller and operation: the figures of a run."""

    def __init__(self) -> None:
        self.cases: Counter[tuple[str, str]] = Counter()
        self.phases: Counter[str] = Counter()
        self.failures: set[tuple[str, str, str, str]] = set()

    @contextmanager
    def case(self, caller: str, case: schemathesis.Case) -> Iterator[None]:
        operation = case.operation.label
        self.cases[caller, operation] += 1
        self.phases[case.meta.phase.name.value if case.meta else "explicit"] += 1
        try:
            yield
        except FailureGroup as group:
            for failure in group.exceptions:
                title = getattr(failure, "title", None) or str(failure)
                self.failures.add((caller, operation, check_name(failure), title))
            raise

    def summary(self) -> str:
        operations = {operation for _, operation in self.cases}
        callers = {caller for caller, _ in self.cases}
        by_check = Counter(check for _, _, check, _ in self.failures)
        lines = [
            f"{len(operations)} operations x {len(callers)} callers, {sum(self.cases.values())} cases; "
            f"{len(self.failures)} distinct failures",
            "  by phase: " + ", ".join(f"{phase} {count}" for phase, count in self.phases.most_common()),
        ]
        lines += [f"  {check}: {count}" for check, count in by_check.most_common()]
        return "\n".join(lines)


def check_name(failure: AssertionError) -> str:
    """The built-in check a failure belongs to, or the title of a custom one."""
    checks: tuple[str, ...] = getattr(failure, "checks", ())
    if checks:
        return checks[0]
    return getattr(failure, "title", None) or type(failure).__name__
