"""GraphQL inputs as the JSON bodies REST receives, so the REST input models validate them."""

import uuid
from dataclasses import fields
from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry


def json_value(value: Any) -> Any:
    """Enums as their values, ids and dates as strings, inputs as objects of the fields given.

    A field the client left out stays out (it is not sent as null), so "missing" and "null" keep
    their REST meanings.
    """
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if hasattr(value, "__strawberry_definition__"):
        return {
            f.name: json_value(getattr(value, f.name))
            for f in fields(value)
            if getattr(value, f.name) is not strawberry.UNSET
        }
    return value


def given(value: Any) -> dict[str, Any]:
    """An input object's given fields as a REST JSON body."""
    body = json_value(value)
    if not isinstance(body, dict):
        raise TypeError(f"{type(value).__name__} is not a GraphQL input object")
    return body
