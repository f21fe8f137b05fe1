"""A touchpoint's validation, all of it, in this package; REST, GraphQL and the batch path all come
through the entry points below (GraphQL turns its input into the REST body first).

Where each rule lives:
- `shape`: the touchpoint as posted, one pydantic model per kind, discriminated on `kind`.
- `facts`: the structured facts of each kind, and which of them are free text.
- `limits`: bounds on one touchpoint (text, facts, innovations, keys) and on a batch.
- `rules`: the caller's reach (services, source system), time, the source key pair, and the key a
  correction must keep.
- `references`: references to the organisation's reference data (services, staff, people,
  innovations) and to an incident, and whether they fit together.
- `repeats`: the same source key sent twice, in a batch or after a stored record.
- `problems`: the problem+json errors naming each field and rule.

The database is asked once, between the two steps: `validate_touchpoints` (or `validate_touchpoint`)
before, `check_references` after the repository's `look_up` has found what the items refer to.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from service.auth.principal import Principal
from service.errors import ProblemError
from service.touchpoints.validation.limits import check_batch_size
from service.touchpoints.validation.problems import Path
from service.touchpoints.validation.references import ReferenceNeeds, check_references, reference_needs
from service.touchpoints.validation.repeats import (
    SourceKey,
    conflict_with_stored,
    content_hash,
    repeated_in_batch,
)
from service.touchpoints.validation.rules import (
    CLOCK_SKEW,
    apply_item_rules,
    check_path_key,
    keep_stored_key,
)
from service.touchpoints.validation.shape import (
    TouchpointCreateItem,
    posted_items,
    validate_item,
    validate_items,
)

__all__ = [
    "Path",
    "ReferenceNeeds",
    "SourceKey",
    "TouchpointCreateItem",
    "check_batch_size",
    "check_path_key",
    "check_references",
    "conflict_with_stored",
    "content_hash",
    "item_prefixes",
    "posted_items",
    "reference_needs",
    "repeated_in_batch",
    "validate_touchpoint",
    "validate_touchpoints",
]


def item_prefixes(count: int, *, batch: bool) -> list[Path]:
    """Where each item's fields are named from: `items[i].…` in a batch, the body itself alone."""
    return [("items", index) if batch else () for index in range(count)]


def validate_touchpoints(
    raws: Sequence[Any], prefixes: Sequence[Path], *, principal: Principal, now: datetime
) -> list[TouchpointCreateItem | ProblemError]:
    """Each raw item as posted, validated in shape and against the caller's rules, or its problem
    (returned, not raised: a batch answers per item)."""
    latest = now + CLOCK_SKEW
    return [
        shaped if isinstance(shaped, ProblemError) else apply_item_rules(shaped, principal, prefix, latest)
        for shaped, prefix in zip(validate_items(raws, prefixes), prefixes, strict=True)
    ]


def validate_touchpoint(
    raw: Any,
    *,
    principal: Principal,
    now: datetime,
    stored_key: tuple[str | None, str | None] | None = None,
) -> TouchpointCreateItem:
    """One raw item as posted, validated in shape and against the caller's rules; raises its problem.

    With `stored_key`, the item corrects the record stored under that key and must keep it.
    """
    checked: TouchpointCreateItem | ProblemError = validate_item(raw, ())
    if stored_key is not None and not isinstance(checked, ProblemError):
        checked = keep_stored_key(checked, stored_key)
    if not isinstance(checked, ProblemError):
        checked = apply_item_rules(checked, principal, (), now + CLOCK_SKEW)
    if isinstance(checked, ProblemError):
        raise checked
    return checked
