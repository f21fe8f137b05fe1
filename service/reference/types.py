"""Field types and schema bases shared by the reference data schemas."""

import uuid
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from service.input_model import ApiInput

# An integration's own name for itself, e.g. `acme-care`; it is part of sync URLs.
SOURCE_SYSTEM_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
# Any printable reference without surrounding whitespace; slashes are fine (the sync route takes a path).
EXTERNAL_REF_PATTERN = r"^[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?$"
MAX_EXTERNAL_REF = 200
MAX_SERVICES_PER_ROW = 500

SourceSystem = Annotated[
    str,
    StringConstraints(pattern=SOURCE_SYSTEM_PATTERN),
    Field(
        description="The sending system's name (letters, digits, `.`, `_`, `-`; up to 64).",
        examples=["acme-care"],
    ),
]
ExternalRef = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_EXTERNAL_REF, pattern=EXTERNAL_REF_PATTERN),
    Field(description="The row's id in the sending system.", examples=["EMP-0042"]),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ServiceIds = Annotated[
    list[uuid.UUID],
    Field(max_length=MAX_SERVICES_PER_ROW, description="Services of the caller's organisation."),
]
# Staff and innovations always belong somewhere: status and turnover are computed per service.
AtLeastOneServiceIds = Annotated[
    list[uuid.UUID],
    Field(
        min_length=1, max_length=MAX_SERVICES_PER_ROW, description="Services of the caller's organisation."
    ),
]


class InputModel(ApiInput):
    """Request bodies refuse unknown fields, so a misspelt field is an error rather than ignored."""

    model_config = ConfigDict(extra="forbid")


def _non_null_schema(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    # Fields that may not be null are typed `X | None` only so they can be omitted; the document
    # shows them as plain `X`, without a `null` default, which is what a client may send.
    nullable: frozenset[str] = getattr(cls, "nullable_fields", frozenset())
    for name, prop in schema.get("properties", {}).items():
        if name in nullable:
            continue
        if prop.get("default", ...) is None:
            del prop["default"]
        variants = [v for v in prop.get("anyOf", []) if v != {"type": "null"}]
        if "anyOf" in prop and len(variants) == 1:
            del prop["anyOf"]
            prop.update(variants[0])


class PatchModel(InputModel):
    """A partial update: omitted fields keep their value; `null` clears only `nullable_fields`.

    Fields are declared `X | None = None` so they may be omitted; `changes()` returns what the
    client sent, and a `null` for a field outside `nullable_fields` is refused by name.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=_non_null_schema)
    nullable_fields: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _null_only_where_nullable(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable_fields:
            raise PydanticCustomError("null_not_allowed", "may not be null; omit the field to keep its value")
        return value

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}
