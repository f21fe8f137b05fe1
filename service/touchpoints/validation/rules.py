"""The rules one touchpoint must meet beyond its shape that need no database: who sends it, when, and
under which key.

- `occurred_at` may be at most CLOCK_SKEW in the future.
- `source_system` and `external_id` come together. An integration client whose token names its source
  system writes only as that system; when it sends an `external_id` alone, its system is assumed.
- A caller limited to some services records only for those.
- A correction keeps the record's (source_system, external_id), which identify it; a correction by
  source key may repeat the key of its path, nothing else.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from service.auth.principal import Principal
from service.errors import Forbidden, ProblemError
from service.moments import CLOCK_SKEW
from service.touchpoints.validation.problems import Path, field_error, invalid, path_of
from service.touchpoints.validation.shape import TouchpointCreateItem

__all__ = ["CLOCK_SKEW", "apply_item_rules", "check_path_key", "keep_stored_key"]


def apply_item_rules(
    item: TouchpointCreateItem, principal: Principal, prefix: Path, latest: datetime
) -> TouchpointCreateItem | ProblemError:
    """The item with the caller's source system filled in, or the problem with it."""
    refused = _out_of_callers_reach(item, principal, prefix)
    if refused is not None:
        return refused
    errors = []
    if item.occurred_at > latest:
        errors.append(
            field_error(
                prefix,
                ("occurred_at",),
                "in_future",
                f"may be at most {int(CLOCK_SKEW.total_seconds())} seconds in the future",
            )
        )
    own_system = principal.source_system
    if item.external_id is not None and item.source_system is None:
        if own_system is None:
            errors.append(
                field_error(prefix, ("source_system",), "source_pair", "required when external_id is given")
            )
        else:
            item = item.model_copy(update={"source_system": own_system})
    elif item.source_system is not None and item.external_id is None:
        errors.append(
            field_error(prefix, ("external_id",), "source_pair", "required when source_system is given")
        )
    return invalid(errors) if errors else item


def _out_of_callers_reach(
    item: TouchpointCreateItem, principal: Principal, prefix: Path
) -> ProblemError | None:
    """A service the token does not name, or a source system other than the client's own."""
    if not principal.may_see_service(item.service_id):
        message = "you may record touchpoints only for the services your token names"
        return Forbidden(
            f"{path_of(prefix, 'service_id')}: {message}",
            errors=[field_error(prefix, ("service_id",), "service_out_of_scope", message)],
        )
    own_system = principal.source_system
    if own_system is not None and item.source_system not in (None, own_system):
        message = f"this client writes as source system {own_system!r}"
        return Forbidden(
            f"{path_of(prefix, 'source_system')}: {message}",
            errors=[field_error(prefix, ("source_system",), "source_system_mismatch", message)],
        )
    return None


def keep_stored_key(
    item: TouchpointCreateItem, stored_key: tuple[str | None, str | None]
) -> TouchpointCreateItem | ProblemError:
    """A correction's item under the stored record's key: filled in when left out, refused when
    changed."""
    if item.external_id is None and item.source_system is None:
        return item.model_copy(update={"source_system": stored_key[0], "external_id": stored_key[1]})
    if (item.source_system, item.external_id) != stored_key:
        return invalid(
            [
                field_error(
                    (),
                    ("external_id",),
                    "immutable",
                    "source_system and external_id identify the record and cannot change; "
                    "omit them or send the stored ones",
                )
            ]
        )
    return item


def check_path_key(item: Any, source_system: str, external_id: str) -> None:
    """A body sent to the by-source route names no other key than the path's."""
    mismatched = [
        field_error((), (name,), "path_mismatch", f"must be {expected!r} as in the path, or omitted")
        for name, expected in (("source_system", source_system), ("external_id", external_id))
        if isinstance(item, Mapping) and item.get(name) not in (None, expected)
    ]
    if mismatched:
        raise invalid(mismatched)
