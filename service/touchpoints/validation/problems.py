"""Problems that name each offending field and the rule it broke, as `items[3].facts.score`.

A batch answers per item, so validation returns these rather than raising them; the single-item
paths raise what they get.
"""

from collections.abc import Sequence

from service.errors import InvalidInput, field_path

Path = tuple[str | int, ...]


def path_of(prefix: Path, *loc: str | int) -> str:
    return field_path((*prefix, *loc)) if (prefix or loc) else "body"


def field_error(prefix: Path, loc: Sequence[str | int], rule: str, message: str) -> dict[str, str]:
    return {"field": path_of(prefix, *loc), "rule": rule, "message": message}


def invalid(errors: list[dict[str, str]]) -> InvalidInput:
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return InvalidInput(f"{first['field']}: {first['message']}{more}", errors=errors)
