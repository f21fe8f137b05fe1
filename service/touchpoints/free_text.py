"""Free text: what a person typed about people, shown only to roles that may read it.

Free text is a touchpoint's `text` and every facts field its kind's facts schema marks with
`FREE_TEXT` (`FactText` in `service.touchpoints.validation.facts`: a daily note's `activity`, an audit's
`tool`). It may name a resident or a colleague, so it never reaches a caller without
`touchpoint:read_text` (commissioners, inspectors, platform and provider admins), nor any caller
outside the provider whose record it is.

Withheld free text reads as null, in every answer: the field stays where it was (`text: null`,
`facts.activity: null`), so an answer's shape does not depend on who asks. `may_read_free_text`
decides; `disclose` applies the decision to a record (a touchpoint, a revision's content, an
evidence row). Every answer that carries a touchpoint's text or facts goes through them.
"""

import uuid
from collections.abc import Mapping
from functools import cache
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from service.auth.principal import Principal
from service.policy import Permission, allowed
from service.touchpoints.validation.facts import FREE_TEXT, Facts
from service.touchpoints.validation.shape import TouchpointCreateItem

FactPath = tuple[str, ...]


def may_read_free_text(principal: Principal, *, provider_id: uuid.UUID | None = None) -> bool:
    """Whether `principal` may read free text (of provider `provider_id`'s records, when given)."""
    if provider_id is not None and principal.organisation_id != provider_id:
        return False
    return allowed(principal, Permission.touchpoint_read_text)


def _facts_model(annotation: Any) -> type[Facts] | None:
    """The facts model an annotation holds (`NomadItems`, `NomadItems | None`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, Facts):
        return annotation
    if get_origin(annotation) in (Union, UnionType):
        for member in get_args(annotation):
            found = _facts_model(member)
            if found is not None:
                return found
    return None


def _marked_paths(model: type[BaseModel], prefix: FactPath = ()) -> list[FactPath]:
    paths: list[FactPath] = []
    for name, field in model.model_fields.items():
        extra = field.json_schema_extra
        if isinstance(extra, dict) and extra.get(FREE_TEXT) is True:
            paths.append((*prefix, name))
            continue
        nested = _facts_model(field.annotation)
        if nested is not None:
            paths += _marked_paths(nested, (*prefix, name))
    return paths


@cache
def free_text_facts() -> dict[str, tuple[FactPath, ...]]:
    """Per kind, the paths of its facts fields marked as free text (read from the facts schemas)."""
    out: dict[str, tuple[FactPath, ...]] = {}
    for create in get_args(TouchpointCreateItem):
        facts = _facts_model(create.model_fields["facts"].annotation)
        assert facts is not None, f"{create.__name__}.facts is not a facts model"
        for kind in get_args(create.model_fields["kind"].annotation):
            out[kind] = tuple(_marked_paths(facts))
    return out


def _set_null(facts: Any, path: FactPath) -> Any:
    """A copy of `facts` with the value at `path` null, where there is one; the rest shared."""
    if not isinstance(facts, Mapping) or path[0] not in facts:
        return facts
    head, rest = path[0], path[1:]
    return {**facts, head: _set_null(facts[head], rest) if rest else None}


def withhold(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `record` (with `kind`, and `text` and `facts` where it has them), free text null."""
    out = dict(record)
    if "text" in out:
        out["text"] = None
    facts = out.get("facts")
    for path in free_text_facts().get(_kind(out), ()):
        facts = _set_null(facts, path)
    if "facts" in out:
        out["facts"] = facts
    return out


def disclose(record: Mapping[str, Any], *, readable: bool) -> dict[str, Any]:
    """`record` as the caller may see it: whole when `readable` (from `may_read_free_text`)."""
    return dict(record) if readable else withhold(record)


def holds_free_text(record: Mapping[str, Any]) -> bool:
    """Whether `record` carries any free text (for the access log of text reads)."""
    if record.get("text") is not None:
        return True
    return any(
        _value_at(record.get("facts"), path) is not None for path in free_text_facts().get(_kind(record), ())
    )


def _value_at(facts: Any, path: FactPath) -> Any:
    for name in path:
        if not isinstance(facts, Mapping):
            return None
        facts = facts.get(name)
    return facts


def _kind(record: Mapping[str, Any]) -> str:
    kind = record.get("kind")
    return str(getattr(kind, "value", kind))
