"""DateTime and Date as REST reads them (service/moments.py), in place of Strawberry's lenient ones.

Strawberry's own DateTime takes a time without an offset and any year Python can hold; these take
ISO 8601 only, a DateTime only with its offset, and both only inside the accepted range, so an
argument or input refused by REST is refused here too, naming the rule.
"""

from datetime import date, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.types.scalar import ScalarDefinition

from service.moments import QUERY_MOMENTS, QueryDate, QueryMoment

_MOMENT: TypeAdapter[datetime] = TypeAdapter(QueryMoment)
_DATE: TypeAdapter[date] = TypeAdapter(QueryDate)


def _parser(adapter: TypeAdapter[Any], name: str) -> Any:
    def parse(value: object) -> Any:
        try:
            return adapter.validate_python(value)
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            raise StrawberryInputCoercionError(
                f'Value cannot represent a {name}: "{value}". {error["msg"]}',
                extensions={"code": "BAD_USER_INPUT", "rule": error["type"]},
            ) from None

    return parse


def _isoformat(value: date) -> str:
    return value.isoformat()


DATE_TIME = ScalarDefinition(
    name="DateTime",
    description=f"ISO 8601 date-time with an offset, {QUERY_MOMENTS.text} (UTC).",
    specified_by_url=None,
    serialize=_isoformat,
    parse_value=_parser(_MOMENT, "DateTime"),
    parse_literal=None,
    origin=datetime,
)
DATE = ScalarDefinition(
    name="Date",
    description=f"ISO 8601 date, {QUERY_MOMENTS.text}.",
    specified_by_url=None,
    serialize=_isoformat,
    parse_value=_parser(_DATE, "Date"),
    parse_literal=None,
    origin=date,
)
SCALAR_OVERRIDES: dict[object, Any] = {datetime: DATE_TIME, date: DATE}
