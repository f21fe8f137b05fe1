"""The base of every request body: rules that hold for every field of every input, in one place.

- No text may hold the NUL character (U+0000): Postgres stores no NUL in `text` or `jsonb`, so it is
  refused here, by field, rather than failing the write (and, in a batch, only its own item).
- Every date and date-time lies in the range of care record dates (service/moments.py).

Both are added to the model's validation schema when the class is built, wherever a string, date or
date-time sits (a field, a list item, a dictionary key or value, a nested model), so a field added
later is covered without anyone remembering to.
"""

from typing import Any

from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from service.moments import RECORD_DATES

NUL = "\x00"


def no_nul(value: str) -> str:
    if NUL in value:
        raise PydanticCustomError("nul_character", "may not contain the NUL character (U+0000)")
    return value


def no_nul_anywhere(value: Any) -> Any:
    """For values typed `Any`: every string inside, keys included."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            no_nul(node)
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return value


_CHECKS = {
    "str": no_nul,
    "any": no_nul_anywhere,
    "date": RECORD_DATES.check,
    "datetime": RECORD_DATES.check,
}
_OURS = frozenset(_CHECKS.values())
# Keys of a core schema that hold no validation schema below them.
_NOT_SCHEMAS = frozenset({"metadata", "serialization", "ref", "cls", "config", "function"})


def with_input_rules(schema: Any) -> Any:
    """`schema` with each string, date and date-time checked after its own validation."""
    if isinstance(schema, list):
        return [with_input_rules(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if kind == "function-after" and schema.get("function", {}).get("function") in _OURS:
        return schema
    if isinstance(kind, str) and kind in _CHECKS:
        return core_schema.no_info_after_validator_function(_CHECKS[kind], schema)
    return {key: value if key in _NOT_SCHEMAS else with_input_rules(value) for key, value in schema.items()}


class ApiInput(BaseModel):
    """A request body (or part of one): strings without NUL, dates within the accepted range."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        schema: CoreSchema = with_input_rules(handler(source))
        return schema
