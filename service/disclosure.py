"""Small-count suppression for what commissioners and inspectors see.

Outside the provider, a count from 1 to 4 could point at a person ("the one restrictive
intervention on nights"), so it is shown as suppressed rather than as a number. Zero is shown:
"none happened" identifies nobody. Use it on every count in a commissioner or inspector answer:

    from service.disclosure import suppress, suppress_ratio

    numerator, denominator, value = suppress_ratio(num, den, value)   # indicator triples
    incidents = suppress(incident_count)                               # any other count

and declare such fields as `Count` (an int or `{"suppressed": true}`) in the response schema.
`scope.is_external` (service.scoping.ProviderScope) says when a caller needs it.
"""

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

SMALLEST_SHOWN = 5  # counts 1..SMALLEST_SHOWN-1 are suppressed

V = TypeVar("V")


class Suppressed(BaseModel):
    """A count too small to show outside the provider."""

    model_config = ConfigDict(
        frozen=True, json_schema_extra={"description": "A count from 1 to 4, withheld."}
    )

    suppressed: Literal[True] = True


SUPPRESSED = Suppressed()

Count = Annotated[
    int | Suppressed,
    Field(description='A count, or `{"suppressed": true}` where 1–4 could identify someone.'),
]


def is_small(count: int) -> bool:
    return 0 < count < SMALLEST_SHOWN


def suppress(count: int) -> int | Suppressed:
    """`count`, or SUPPRESSED when it is 1–4."""
    if count < 0:
        raise ValueError(f"a count cannot be negative: {count}")
    return SUPPRESSED if is_small(count) else count


def suppress_ratio(
    numerator: int, denominator: int, value: V
) -> tuple[int | Suppressed, int | Suppressed, V | None]:
    """An indicator's numerator, denominator and value (a share, mean …) for an external reader.

    When either count is small, both counts are withheld and so is the value: with one count and
    the value shown, the small count could be worked out again.
    """
    if is_small(numerator) or is_small(denominator):
        return SUPPRESSED, SUPPRESSED, None
    return numerator, denominator, value


def is_suppressed(value: Any) -> bool:
    return isinstance(value, Suppressed) or (isinstance(value, dict) and value.get("suppressed") is True)
